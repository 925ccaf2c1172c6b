package io.tagcache.interceptor;

import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import io.tagcache.annotation.TagEntity;
import io.tagcache.annotation.TagId;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.jsonFormatVisitors.JsonFormatVisitorWrapper;
import tools.jackson.databind.jsonFormatVisitors.JsonObjectFormatVisitor;
import tools.jackson.databind.node.POJONode;
import tools.jackson.databind.ser.PropertyWriter;
import tools.jackson.databind.ser.bean.BeanSerializerBase;

import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.Assert;
import org.springframework.util.ReflectionUtils;

/**
 * Derives the tags of a cached value from its object graph: every {@link TagEntity} instance reachable
 * from it adds {@code <prefix>-<id>}, and every {@link TagResolver} adds the tags it knows.
 *
 * <p>Design notes:
 * <ul>
 * <li><b>What is walked: the graph the JSON holds.</b> Tags must describe what is stored, so the walk
 * follows what the cache writes: the value itself; of every application type (records, beans and DTOs
 * such as {@code Page(List<User> items, long total)}, entities included) the properties that Jackson
 * writes; the elements of collections, object arrays and other iterables of framework types (a Spring
 * Data {@code Page}); map values (keys are written as strings, so they carry no tags); the content of
 * {@code Optional} and {@code AtomicReference}; and the children of {@link JsonNode} trees and the
 * value of a {@code POJONode}. Which properties an application type has is asked of Jackson itself,
 * once per class: they are the properties of the bean serializer the mapper writes that class with,
 * so they reflect {@code @JsonIgnore}, {@code @JsonIgnoreProperties}, {@code @JsonIgnoreType}, back
 * references, {@code transient}, {@code @JsonUnwrapped}, mix-ins, visibility settings and modules. The
 * mapper asked should be the one the cache writes with (the configuration passes the application's
 * {@code JsonMapper} bean, as the auto-configured cache manager uses it; else a default one). Not looked into: JDK types ({@code java.*}, {@code javax.*}, ...), whose internals are
 * neither ours to read nor open to reflection, framework types ({@code org.springframework.*}, Jackson,
 * Reactor, ...), and types Jackson writes with a custom serializer or {@code @JsonValue} (a resolver
 * can tag those).</li>
 * <li><b>Why not collect the tags while writing the JSON.</b> A serializer hook on {@code @TagEntity}
 * types would see exactly the bytes stored, in one pass. But the tags are needed before the value is
 * written: {@code putFenced} receives them, the cache validates them, puts them in the entry header and
 * sends them to the put script with the value. Collecting them during serialization would move tag
 * derivation (and the resolvers) from the interceptor into the Redis cache behind
 * {@code TaggedCache.put}, change what every {@code put} means, and tie tagging to one
 * {@code TaggedCache} implementation and its serializer. Asking the same mapper which properties it
 * writes gives the same graph while keeping that order and the packages' one-way dependencies; the
 * price is a second pass over the graph, measured by {@code TagExtractionBenchmark}.</li>
 * <li><b>Cycles and depth.</b> Objects are visited once, by identity, and the walk keeps its own stack
 * rather than recursing, so a cyclic graph ends and a long chain cannot overflow the thread's
 * stack.</li>
 * <li><b>Cost.</b> What to read from a class (its kind, id accessor and walkable properties) is worked
 * out once per class and kept in a {@link ClassValue}, which does not pin class loaders. Properties that
 * can only hold primitives or final JDK values (a {@code String} name, a {@code long} count) are left
 * out of that list, so walking an object reads only the properties that may lead to entities.</li>
 * <li><b>Failures.</b> An entity without an id member or with a {@code null} id cannot be tagged, and a
 * property whose getter throws cannot be walked (nor written as JSON), so the value must not be cached:
 * {@link #extract} throws and the caller returns the value uncached, counted and logged.</li>
 * </ul>
 * Thread-safe.
 */
public final class TagExtractor {

	/** How each {@code @TagEntity} type is identified; independent of the mapper, so shared. */
	private static final ClassValue<Optional<EntityId>> ENTITIES = new ClassValue<>() {

		@Override
		protected Optional<EntityId> computeValue(Class<?> type) {
			return Optional.ofNullable(EntityId.of(type));
		}

	};

	private static final Property[] NO_PROPERTIES = {};

	/** Passed to getters so that a call does not allocate an empty varargs array. */
	private static final Object[] NO_ARGUMENTS = {};

	/** Package prefixes of JDK types: neither walked nor offered to resolvers. */
	private static final String[] JDK_PACKAGES = { "java.", "javax.", "jdk.", "sun.", "com.sun." };

	/** Package prefixes of libraries whose types are not reflected into; they are offered to resolvers. */
	private static final String[] FRAMEWORK_PACKAGES = { "jakarta.", "org.springframework.", "tools.jackson.",
			"com.fasterxml.jackson.", "reactor.", "io.netty.", "io.lettuce.", "io.micrometer.", "org.hibernate.",
			"kotlin.", "scala.", "groovy." };

	private final List<TagResolver> resolvers;

	private final JsonMapper jsonMapper;

	private final ClassValue<TypeInfo> types = new ClassValue<>() {

		@Override
		protected TypeInfo computeValue(Class<?> type) {
			return TypeInfo.of(type, TagExtractor.this.jsonMapper);
		}

	};

	/**
	 * Create an extractor that also asks the given resolvers and follows the properties a default
	 * {@link JsonMapper} writes.
	 * @param resolvers the resolvers, in the order they are asked
	 */
	public TagExtractor(List<? extends TagResolver> resolvers) {
		this(resolvers, JsonMapper.shared());
	}

	/**
	 * Create an extractor that also asks the given resolvers and follows the properties the given
	 * mapper writes.
	 * @param resolvers the resolvers, in the order they are asked
	 * @param jsonMapper the mapper cached values are written with
	 */
	public TagExtractor(List<? extends TagResolver> resolvers, JsonMapper jsonMapper) {
		Assert.notNull(resolvers, "Resolvers must not be null");
		Assert.notNull(jsonMapper, "JsonMapper must not be null");
		this.resolvers = List.copyOf(resolvers);
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Return the tags of every tagged object reachable from the value, in the order they were found.
	 * @param value the value, possibly {@code null}
	 * @return the tags, without duplicates
	 * @throws IllegalStateException when an entity cannot be tagged (no id member, or a {@code null}
	 * id), a property cannot be read (its getter throws), Jackson cannot describe a type, or a resolver
	 * fails
	 */
	public Set<String> extract(@Nullable Object value) {
		Set<String> tags = new LinkedHashSet<>();
		if (value == null) {
			return tags;
		}
		Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());
		Deque<Object> pending = new ArrayDeque<>();
		pending.push(value);
		while (!pending.isEmpty()) {
			Object current = pending.pop();
			TypeInfo type = this.types.get(current.getClass());
			if (type.kind == Kind.JDK_VALUE || !visited.add(current)) {
				continue;
			}
			switch (type.kind) {
				case COLLECTION -> pushAll(pending, (Collection<?>) current);
				case ITERABLE -> {
					pushAll(pending, (Iterable<?>) current);
					resolve(current, tags);
				}
				case MAP -> pushAll(pending, ((Map<?, ?>) current).values());
				case ARRAY -> {
					for (Object element : (Object[]) current) {
						push(pending, element);
					}
				}
				case OPTIONAL -> push(pending, ((Optional<?>) current).orElse(null));
				case ATOMIC_REFERENCE -> push(pending, ((AtomicReference<?>) current).get());
				case JSON_NODE -> {
					if (current instanceof POJONode pojo) {
						push(pending, pojo.getPojo());
					}
					else {
						pushAll(pending, ((JsonNode) current).values());
					}
					resolve(current, tags);
				}
				case OBJECT -> {
					if (type.entity != null) {
						tags.add(type.entity.tag(current));
					}
					for (Property property : type.properties) {
						push(pending, property.read(current));
					}
					resolve(current, tags);
				}
				default -> resolve(current, tags);
			}
		}
		return tags;
	}

	/**
	 * Check that instances of the type can be tagged, when it is a {@code @TagEntity}: used at start-up
	 * on the types a method declares it returns, so that a missing id fails there rather than leaving
	 * every result uncached.
	 * @throws IllegalStateException when the type is a {@code @TagEntity} without an id member
	 */
	static void checkTaggable(Class<?> type) {
		ENTITIES.get(type);
	}

	private void resolve(Object value, Set<String> tags) {
		for (TagResolver resolver : this.resolvers) {
			Collection<String> resolved = resolver.resolve(value);
			if (resolved == null) {
				throw new IllegalStateException("TagResolver " + resolver.getClass().getName()
						+ " returned null for a " + value.getClass().getName() + "; return an empty collection instead");
			}
			for (String tag : resolved) {
				if (tag != null) {
					tags.add(tag);
				}
			}
		}
	}

	private static void pushAll(Deque<Object> pending, Iterable<?> elements) {
		for (Object element : elements) {
			push(pending, element);
		}
	}

	private static void push(Deque<Object> pending, @Nullable Object value) {
		if (value != null) {
			pending.push(value);
		}
	}

	private static boolean inPackages(Class<?> type, String[] packages) {
		String name = type.getName();
		for (String prefix : packages) {
			if (name.startsWith(prefix)) {
				return true;
			}
		}
		return false;
	}

	private static boolean isJdk(Class<?> type) {
		return type.isPrimitive() || inPackages(type, JDK_PACKAGES);
	}

	private static <T extends AccessibleObject & Member> T accessible(T member, Class<?> type) {
		if (!member.trySetAccessible()) {
			throw new IllegalStateException("Cannot read " + member.getName() + " of " + type.getName()
					+ " to find its tags: open its package to tagcache (module-info 'opens')");
		}
		return member;
	}

	private enum Kind {

		/** A JDK type that is neither a container nor a reference: not walked, not resolved. */
		JDK_VALUE,

		/** JDK containers and references: their content walked, themselves not resolved. */
		COLLECTION, MAP, ARRAY, OPTIONAL, ATOMIC_REFERENCE,

		/** Iterables of frameworks and applications, JSON trees: their content walked, resolved. */
		ITERABLE, JSON_NODE,

		/** An application type: tagged when it is an entity, its JSON properties walked, resolved. */
		OBJECT,

		/** A framework type, an enum: offered to the resolvers, not walked. */
		OPAQUE

	}

	/** What the walk needs to know about one class; computed once per class and mapper. */
	private static final class TypeInfo {

		final Kind kind;

		final @Nullable EntityId entity;

		final Property[] properties;

		private TypeInfo(Kind kind) {
			this(kind, null, NO_PROPERTIES);
		}

		private TypeInfo(Kind kind, @Nullable EntityId entity, Property[] properties) {
			this.kind = kind;
			this.entity = entity;
			this.properties = properties;
		}

		static TypeInfo of(Class<?> type, JsonMapper mapper) {
			if (Collection.class.isAssignableFrom(type)) {
				return new TypeInfo(Kind.COLLECTION);
			}
			if (Map.class.isAssignableFrom(type)) {
				return new TypeInfo(Kind.MAP);
			}
			if (type == Optional.class) {
				return new TypeInfo(Kind.OPTIONAL);
			}
			if (type == AtomicReference.class) {
				return new TypeInfo(Kind.ATOMIC_REFERENCE);
			}
			if (type.isArray()) {
				return new TypeInfo(type.getComponentType().isPrimitive() ? Kind.JDK_VALUE : Kind.ARRAY);
			}
			if (JsonNode.class.isAssignableFrom(type)) {
				return new TypeInfo(Kind.JSON_NODE);
			}
			if (isJdk(type)) {
				return new TypeInfo(Kind.JDK_VALUE);
			}
			EntityId entity = ENTITIES.get(type).orElse(null);
			if (entity == null && (Enum.class.isAssignableFrom(type) || inPackages(type, FRAMEWORK_PACKAGES))) {
				return new TypeInfo(Iterable.class.isAssignableFrom(type) ? Kind.ITERABLE : Kind.OPAQUE);
			}
			Property[] properties = Property.of(type, mapper);
			if (entity == null && properties.length == 0 && Iterable.class.isAssignableFrom(type)) {
				return new TypeInfo(Kind.ITERABLE);
			}
			return new TypeInfo(Kind.OBJECT, entity, properties);
		}

	}

	/** A property Jackson writes, read through the member its serializer reads. */
	private record Property(String name, Member accessor) {

		@Nullable Object read(Object bean) {
			try {
				return (this.accessor instanceof Field field) ? field.get(bean)
						: ((Method) this.accessor).invoke(bean, NO_ARGUMENTS);
			}
			catch (InvocationTargetException ex) {
				Throwable cause = ex.getTargetException();
				throw new IllegalStateException("Cannot read property '" + this.name + "' of a "
						+ bean.getClass().getName() + " to find its tags (nor write it as JSON): " + cause, cause);
			}
			catch (IllegalAccessException ex) {
				throw new IllegalStateException("Cannot read property '" + this.name + "' of a "
						+ bean.getClass().getName() + " to find its tags: " + ex.getMessage(), ex);
			}
		}

		/**
		 * The properties of the type that Jackson writes and that may lead to tags: those of the bean
		 * serializer the mapper uses for the type, reached through the format visitor, the public way to
		 * a {@code SerializationContext}. A type Jackson writes with any other serializer (a custom one,
		 * {@code @JsonValue}, a scalar) has none.
		 */
		static Property[] of(Class<?> type, JsonMapper mapper) {
			List<PropertyWriter> written = new ArrayList<>();
			try {
				mapper.acceptJsonFormatVisitor(type, new JsonFormatVisitorWrapper.Base() {

					@Override
					public @Nullable JsonObjectFormatVisitor expectObjectFormat(JavaType objectType) {
						if (objectType.getRawClass() == type
								&& getContext().findValueSerializer(objectType) instanceof BeanSerializerBase bean) {
							bean.properties().forEachRemaining(written::add);
						}
						return null;
					}

				});
			}
			catch (JacksonException ex) {
				throw new IllegalStateException("Cannot find the JSON properties of " + type.getName()
						+ " to derive its tags: " + ex.getOriginalMessage(), ex);
			}
			List<Property> properties = new ArrayList<>(written.size());
			for (PropertyWriter property : written) {
				Member member = (property.getMember() != null) ? property.getMember().getMember() : null;
				if (member instanceof AccessibleObject && member.getDeclaringClass().isAssignableFrom(type)
						&& !Modifier.isStatic(member.getModifiers())
						&& ((member instanceof Field) || ((Method) member).getParameterCount() == 0)
						&& mayLeadToTags(property.getType().getRawClass())) {
					properties.add(new Property(property.getName(), accessible((AccessibleObject & Member) member, type)));
				}
			}
			return properties.toArray(NO_PROPERTIES);
		}

		/** Whether a property of that declared type can hold something with tags. */
		private static boolean mayLeadToTags(Class<?> declared) {
			if (declared.isPrimitive() || (declared.isArray() && declared.getComponentType().isPrimitive())) {
				return false;
			}
			return !(isJdk(declared) && Modifier.isFinal(declared.getModifiers()) && declared != Optional.class);
		}

	}

	/** The tag prefix of a {@code @TagEntity} type and the member holding the id. */
	private static final class EntityId {

		private final String prefix;

		private final @Nullable Field idField;

		private final @Nullable Method idMethod;

		private EntityId(String prefix, @Nullable Field idField, @Nullable Method idMethod) {
			this.prefix = prefix;
			this.idField = idField;
			this.idMethod = idMethod;
		}

		/** The identity of the type, {@code null} when it is not a {@code @TagEntity}. */
		static @Nullable EntityId of(Class<?> type) {
			if (type.isArray() || isJdk(type)) {
				return null;
			}
			TagEntity entity = AnnotatedElementUtils.findMergedAnnotation(type, TagEntity.class);
			if (entity == null) {
				return null;
			}
			if (entity.value().isBlank()) {
				throw new IllegalStateException("@TagEntity on " + type.getName() + " has a blank prefix");
			}
			Field[] idField = new Field[1];
			ReflectionUtils.doWithFields(type, (field) -> {
				if (idField[0] == null) {
					idField[0] = accessible(field, type);
				}
			}, (field) -> field.isAnnotationPresent(TagId.class) && !Modifier.isStatic(field.getModifiers()));
			Method idMethod = null;
			if (idField[0] == null) {
				idMethod = findIdMethod(type);
				if (idMethod == null) {
					Field id = ReflectionUtils.findField(type, "id");
					if (id != null && !Modifier.isStatic(id.getModifiers())) {
						idField[0] = accessible(id, type);
					}
				}
			}
			if (idField[0] == null && idMethod == null) {
				throw new IllegalStateException("@TagEntity type " + type.getName() + " has no member annotated "
						+ "@TagId and no property named 'id', so its instances cannot be tagged");
			}
			return new EntityId(entity.value(), idField[0], idMethod);
		}

		private static @Nullable Method findIdMethod(Class<?> type) {
			Method[] annotated = new Method[1];
			ReflectionUtils.doWithMethods(type, (method) -> {
				if (annotated[0] == null) {
					annotated[0] = method;
				}
			}, (method) -> method.isAnnotationPresent(TagId.class) && !Modifier.isStatic(method.getModifiers()));
			if (annotated[0] != null) {
				Method method = annotated[0];
				if (method.getParameterCount() != 0 || method.getReturnType() == void.class) {
					throw new IllegalStateException("@TagId method " + type.getName() + "." + method.getName()
							+ " must take no parameters and return the id");
				}
				return accessible(method, type);
			}
			for (String name : (type.isRecord() ? new String[] { "id" } : new String[] { "getId", "id" })) {
				Method method = ReflectionUtils.findMethod(type, name);
				if (method != null && method.getReturnType() != void.class && !Modifier.isStatic(method.getModifiers())) {
					return accessible(method, type);
				}
			}
			return null;
		}

		String tag(Object entity) {
			Object id = (this.idField != null) ? ReflectionUtils.getField(this.idField, entity)
					: ReflectionUtils.invokeMethod(this.idMethod, entity);
			if (id == null) {
				throw new IllegalStateException("A " + entity.getClass().getName() + " (@TagEntity(\"" + this.prefix
						+ "\")) has a null id, so it cannot be tagged");
			}
			return this.prefix + "-" + id;
		}

	}

}
