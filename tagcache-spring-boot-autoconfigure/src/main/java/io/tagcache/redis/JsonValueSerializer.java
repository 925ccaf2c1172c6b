package io.tagcache.redis;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.type.TypeFactory;

import org.springframework.util.ClassUtils;

/**
 * Writes values as JSON and reads them back, either as the caller's (possibly generic) type or,
 * for untyped reads, as the type recorded in the entry's type hint.
 *
 * <p>The hint is a canonical type such as {@code java.util.List<com.example.User>}: the runtime
 * class, with the element class of a homogeneous collection and the key and value classes of a
 * homogeneous map, so that a plain {@code @Cacheable} returning {@code List<User>} reads back users
 * rather than maps. Collections are hinted by their interface ({@code List}, {@code Set},
 * {@code Map}) so that immutable JDK implementations never appear in a hint. Every class a hint
 * names must pass the {@link TypeAllowList} before it is loaded. No Java serialization, no
 * polymorphic default typing.
 *
 * <p>A value Jackson writes but cannot read back (a class with private fields and no getters is
 * written as {@code {}}) would miss on every call. The first value written of each class is
 * therefore read back once ({@link #unreadableReason}); the verdict is kept per class.
 */
final class JsonValueSerializer {

	/** Bounds the verdicts kept per type hint and per class; beyond it, each value is checked again. */
	private static final int VERDICT_LIMIT = 10_000;

	/** A verdict that a hint or class passed. */
	private static final String PASSED = "";

	private final ConcurrentMap<String, String> disallowedByHint = new ConcurrentHashMap<>();

	private final ConcurrentMap<Class<?>, String> unreadableByClass = new ConcurrentHashMap<>();

	private final JsonMapper mapper;

	private final TypeAllowList allowList;

	private final @Nullable ClassLoader classLoader;

	JsonValueSerializer(JsonMapper mapper, TypeAllowList allowList, @Nullable ClassLoader classLoader) {
		this.mapper = mapper;
		this.allowList = allowList;
		this.classLoader = classLoader;
	}

	byte[] serialize(Object value, String cacheName) {
		try {
			return this.mapper.writeValueAsBytes(value);
		}
		catch (JacksonException ex) {
			throw new IllegalArgumentException("Cannot store a value of type " + value.getClass().getName()
					+ " in cache '" + cacheName + "' as JSON: " + ex.getOriginalMessage(), ex);
		}
	}

	/** Read the JSON in {@code length} bytes of {@code source} from {@code offset} as the given type. */
	Object deserialize(byte[] source, int offset, int length, Type type, String cacheName) {
		return read(source, offset, length, this.mapper.getTypeFactory().constructType(type), cacheName);
	}

	/** Read the JSON in {@code length} bytes of {@code source} from {@code offset} as its type hint says. */
	Object deserialize(byte[] source, int offset, int length, String typeHint, String cacheName) {
		return read(source, offset, length, resolve(typeHint, cacheName), cacheName);
	}

	private Object read(byte[] source, int offset, int length, JavaType type, String cacheName) {
		try {
			return this.mapper.readValue(source, offset, length, type);
		}
		catch (JacksonException ex) {
			throw new IllegalStateException("Cannot read the entry of cache '" + cacheName + "' as " + type.toCanonical()
					+ ": " + ex.getOriginalMessage(), ex);
		}
	}

	/**
	 * Return the first class a type hint names that untyped reads may not instantiate.
	 * @param typeHint a hint from {@link #typeHint(Object)}
	 * @return the class name, or {@code null} when every class is allowed
	 */
	@Nullable String disallowedClass(String typeHint) {
		String verdict = this.disallowedByHint.get(typeHint);
		if (verdict == null) {
			verdict = PASSED;
			for (String className : typeHint.split("[<>,\\[\\]]")) {
				String name = className.trim();
				if (!name.isEmpty() && !this.allowList.allows(name)) {
					verdict = name;
					break;
				}
			}
			if (this.disallowedByHint.size() < VERDICT_LIMIT) {
				this.disallowedByHint.put(typeHint, verdict);
			}
		}
		return verdict.isEmpty() ? null : verdict;
	}

	/**
	 * Check that the value's class (for a collection, map, array or {@code Optional}: its first
	 * element's) reads back from its JSON: the first value written of each class is read back once,
	 * and its JSON is checked not to be {@code {}} for a class that has fields. JDK types are trusted.
	 * @return why it cannot be read back, or {@code null} when it can
	 */
	@Nullable String unreadableReason(Object value) {
		Object sample = sample(value);
		if (sample == null) {
			return null;
		}
		Class<?> type = sample.getClass();
		if (type.isEnum() || type.isArray() || type.getName().startsWith("java.")) {
			return null;
		}
		String verdict = this.unreadableByClass.get(type);
		if (verdict == null) {
			verdict = readBack(sample);
			if (this.unreadableByClass.size() < VERDICT_LIMIT) {
				this.unreadableByClass.put(type, verdict);
			}
		}
		return verdict.isEmpty() ? null : verdict;
	}

	/** The object that stands for the value's type: itself, or the first element of a container. */
	private static @Nullable Object sample(@Nullable Object value) {
		for (int depth = 0; value != null && depth < 8; depth++) {
			if (value instanceof Collection<?> collection) {
				value = collection.stream().filter((element) -> element != null).findFirst().orElse(null);
			}
			else if (value instanceof Map<?, ?> map) {
				value = map.values().stream().filter((element) -> element != null).findFirst().orElse(null);
			}
			else if (value instanceof Optional<?> optional) {
				value = optional.orElse(null);
			}
			else if (value.getClass().isArray() && !value.getClass().getComponentType().isPrimitive()) {
				Object[] array = (Object[]) value;
				value = (array.length > 0) ? array[0] : null;
			}
			else {
				return value;
			}
		}
		return null;
	}

	private String readBack(Object sample) {
		Class<?> type = sample.getClass();
		byte[] json;
		try {
			json = this.mapper.writeValueAsBytes(sample);
		}
		catch (JacksonException ex) {
			return PASSED; // not writable: the write itself reports it
		}
		if (json.length == 2 && json[0] == '{' && json[1] == '}' && hasInstanceFields(type)) {
			return "Jackson writes it as {} (it finds no getters or visible fields), so its fields are lost";
		}
		try {
			this.mapper.readValue(json, type);
			return PASSED;
		}
		catch (JacksonException ex) {
			return "Jackson cannot read its JSON back: " + ex.getOriginalMessage();
		}
	}

	private static boolean hasInstanceFields(Class<?> type) {
		for (Class<?> current = type; current != null && current != Object.class; current = current.getSuperclass()) {
			for (Field field : current.getDeclaredFields()) {
				int modifiers = field.getModifiers();
				if (!Modifier.isStatic(modifiers) && !Modifier.isTransient(modifiers) && !field.isSynthetic()) {
					return true;
				}
			}
		}
		return false;
	}

	/** The canonical type hint of a value. */
	String typeHint(Object value) {
		StringBuilder hint = new StringBuilder(64);
		appendHint(hint, value);
		return hint.toString();
	}

	private void appendHint(StringBuilder hint, Object value) {
		if (value instanceof Collection<?> collection) {
			hint.append((value instanceof SortedSet<?>) ? SortedSet.class.getName()
					: (value instanceof Set<?>) ? Set.class.getName() : List.class.getName());
			Object element = commonElement(collection);
			if (element != null) {
				hint.append('<');
				appendHint(hint, element);
				hint.append('>');
			}
		}
		else if (value instanceof Map<?, ?> map) {
			hint.append((value instanceof SortedMap<?, ?>) ? SortedMap.class.getName() : Map.class.getName());
			Object key = commonElement(map.keySet());
			Object element = commonElement(map.values());
			if (key != null && element != null) {
				hint.append('<');
				appendHint(hint, key);
				hint.append(',');
				appendHint(hint, element);
				hint.append('>');
			}
		}
		else if (value instanceof Optional<?> optional) {
			hint.append(Optional.class.getName());
			if (optional.isPresent()) {
				hint.append('<');
				appendHint(hint, optional.get());
				hint.append('>');
			}
		}
		else if (value instanceof Enum<?> constant) {
			hint.append(constant.getDeclaringClass().getName());
		}
		else if (value.getClass().isArray()) {
			hint.append(value.getClass().getComponentType().getName()).append("[]");
		}
		else {
			hint.append(value.getClass().getName());
		}
	}

	/** The element that stands for all elements, when all are of one class (checked, not assumed). */
	private static @Nullable Object commonElement(Collection<?> elements) {
		Object first = null;
		for (Object element : elements) {
			if (element == null || (first != null && element.getClass() != first.getClass())) {
				return null;
			}
			if (first == null) {
				first = element;
			}
		}
		return (first instanceof Collection<?> || first instanceof Map<?, ?>) ? null : first;
	}

	/** Parse a canonical hint, checking every class it names against the allow-list before loading it. */
	JavaType resolve(String typeHint, String cacheName) {
		HintParser parser = new HintParser(typeHint, cacheName);
		JavaType type = parser.parseType();
		parser.expectEnd();
		return type;
	}

	/** An entry whose type hint names a class outside the allow-list. */
	static final class DisallowedTypeException extends IllegalStateException {

		final String className;

		DisallowedTypeException(String className, String message) {
			super(message);
			this.className = className;
		}

	}

	private final class HintParser {

		private final String hint;

		private final String cacheName;

		private int position;

		HintParser(String hint, String cacheName) {
			this.hint = hint;
			this.cacheName = cacheName;
		}

		JavaType parseType() {
			int start = this.position;
			while (this.position < this.hint.length() && "<>,[]".indexOf(this.hint.charAt(this.position)) < 0) {
				this.position++;
			}
			String className = this.hint.substring(start, this.position).trim();
			if (!JsonValueSerializer.this.allowList.allows(className)) {
				throw new DisallowedTypeException(className, "Cache '" + this.cacheName + "' holds an entry of type " + className
						+ ", which is not allowed for untyped reads. Read it with its type (the annotations and "
						+ "get(key, Class) do), or add its package to the type allow-list (" + allowHint() + ")");
			}
			TypeFactory types = JsonValueSerializer.this.mapper.getTypeFactory();
			Class<?> raw = load(className);
			JavaType type;
			if (peek('<')) {
				this.position++;
				List<JavaType> parameters = new ArrayList<>();
				parameters.add(parseType());
				while (peek(',')) {
					this.position++;
					parameters.add(parseType());
				}
				expect('>');
				type = types.constructParametricType(raw, parameters.toArray(JavaType[]::new));
			}
			else {
				type = types.constructType(raw);
			}
			while (peek('[')) {
				this.position++;
				expect(']');
				type = types.constructArrayType(type);
			}
			return type;
		}

		private Class<?> load(String className) {
			try {
				return ClassUtils.forName(className, JsonValueSerializer.this.classLoader);
			}
			catch (ClassNotFoundException | LinkageError ex) {
				throw new IllegalStateException("Cache '" + this.cacheName + "' holds an entry of type " + className
						+ ", which this application cannot load", ex);
			}
		}

		private boolean peek(char c) {
			return this.position < this.hint.length() && this.hint.charAt(this.position) == c;
		}

		private void expect(char c) {
			if (!peek(c)) {
				throw new IllegalStateException("Cache '" + this.cacheName + "' holds an entry with a malformed type hint '"
						+ this.hint + "'");
			}
			this.position++;
		}

		void expectEnd() {
			if (this.position != this.hint.length()) {
				throw new IllegalStateException("Cache '" + this.cacheName + "' holds an entry with a malformed type hint '"
						+ this.hint + "'");
			}
		}

		private String allowHint() {
			return "tagcache.allowed-types, or RedisTaggedCacheManager.builder(...).allowedTypes(...)";
		}

	}

}
