package io.tagcache.interceptor;

import java.lang.reflect.Field;
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

import io.tagcache.annotation.TagEntity;
import io.tagcache.annotation.TagId;
import org.jspecify.annotations.Nullable;

import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.Assert;
import org.springframework.util.ReflectionUtils;

/**
 * Derives the tags of a cached value from its object graph: every {@link TagEntity} instance reachable
 * from it adds {@code <prefix>-<id>}, and every {@link TagResolver} adds the tags it knows.
 *
 * <p>Design notes:
 * <ul>
 * <li><b>What is walked.</b> The value itself, the fields (record components included) of
 * {@code @TagEntity} types, the elements of collections and object arrays, map values, and
 * {@code Optional}s. Nothing else is looked into: not other user types (a resolver may tag them), and
 * never JDK classes, whose internals are neither ours to read nor open to reflection.</li>
 * <li><b>Cycles and depth.</b> Objects are visited once, by identity, and the walk keeps its own stack
 * rather than recursing, so a cyclic graph ends and a long chain cannot overflow the thread's
 * stack.</li>
 * <li><b>Cost.</b> What to read from a class (its kind, id accessor and walkable fields) is worked out
 * once per class and kept in a {@link ClassValue}, which does not pin class loaders. Fields that can
 * only hold primitives or final JDK values (a {@code String} name, a {@code long} count) are left out
 * of that list, so walking an entity reads only the fields that may lead to other entities.</li>
 * <li><b>Failures.</b> An entity without an id member or with a {@code null} id cannot be tagged, so
 * its value must not be cached: {@link #extract} throws and the caller returns the value uncached.</li>
 * </ul>
 * Thread-safe.
 */
public final class TagExtractor {

	private static final ClassValue<TypeInfo> TYPES = new ClassValue<>() {

		@Override
		protected TypeInfo computeValue(Class<?> type) {
			return TypeInfo.of(type);
		}

	};

	private final List<TagResolver> resolvers;

	/**
	 * Create an extractor that also asks the given resolvers.
	 * @param resolvers the resolvers, in the order they are asked
	 */
	public TagExtractor(List<? extends TagResolver> resolvers) {
		Assert.notNull(resolvers, "Resolvers must not be null");
		this.resolvers = List.copyOf(resolvers);
	}

	/**
	 * Return the tags of every tagged object reachable from the value, in the order they were found.
	 * @param value the value, possibly {@code null}
	 * @return the tags, without duplicates
	 * @throws IllegalStateException when an entity cannot be tagged (no id member, or a {@code null}
	 * id), or when a resolver fails
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
			TypeInfo type = TYPES.get(current.getClass());
			if (type.kind == Kind.JDK_VALUE || !visited.add(current)) {
				continue;
			}
			switch (type.kind) {
				case COLLECTION -> pushAll(pending, (Collection<?>) current);
				case MAP -> pushAll(pending, ((Map<?, ?>) current).values());
				case ARRAY -> {
					for (Object element : (Object[]) current) {
						push(pending, element);
					}
				}
				case OPTIONAL -> push(pending, ((Optional<?>) current).orElse(null));
				case ENTITY -> {
					tags.add(type.tag(current));
					for (Field field : type.fields) {
						push(pending, ReflectionUtils.getField(field, current));
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
		TYPES.get(type);
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

	private static void pushAll(Deque<Object> pending, Collection<?> elements) {
		for (Object element : elements) {
			push(pending, element);
		}
	}

	private static void push(Deque<Object> pending, @Nullable Object value) {
		if (value != null) {
			pending.push(value);
		}
	}

	private enum Kind {

		/** A JDK type that is neither a container nor an {@code Optional}: not walked, not resolved. */
		JDK_VALUE,

		COLLECTION, MAP, ARRAY, OPTIONAL, ENTITY,

		/** Any other type: offered to the resolvers, not walked. */
		OPAQUE

	}

	/** What the walk needs to know about one class; computed once per class. */
	private static final class TypeInfo {

		private static final Field[] NO_FIELDS = {};

		final Kind kind;

		private final String prefix;

		private final @Nullable Field idField;

		private final @Nullable Method idMethod;

		final Field[] fields;

		private TypeInfo(Kind kind) {
			this(kind, "", null, null, NO_FIELDS);
		}

		private TypeInfo(Kind kind, String prefix, @Nullable Field idField, @Nullable Method idMethod,
				Field[] fields) {
			this.kind = kind;
			this.prefix = prefix;
			this.idField = idField;
			this.idMethod = idMethod;
			this.fields = fields;
		}

		static TypeInfo of(Class<?> type) {
			if (Collection.class.isAssignableFrom(type)) {
				return new TypeInfo(Kind.COLLECTION);
			}
			if (Map.class.isAssignableFrom(type)) {
				return new TypeInfo(Kind.MAP);
			}
			if (type == Optional.class) {
				return new TypeInfo(Kind.OPTIONAL);
			}
			if (type.isArray()) {
				return new TypeInfo(type.getComponentType().isPrimitive() ? Kind.JDK_VALUE : Kind.ARRAY);
			}
			if (isJdk(type)) {
				return new TypeInfo(Kind.JDK_VALUE);
			}
			TagEntity entity = AnnotatedElementUtils.findMergedAnnotation(type, TagEntity.class);
			if (entity == null) {
				return new TypeInfo(Kind.OPAQUE);
			}
			if (entity.value().isBlank()) {
				throw new IllegalStateException("@TagEntity on " + type.getName() + " has a blank prefix");
			}
			List<Field> fields = new ArrayList<>();
			Field[] idField = new Field[1];
			ReflectionUtils.doWithFields(type, (field) -> {
				if (field.isAnnotationPresent(TagId.class) && idField[0] == null) {
					idField[0] = accessible(field, type);
				}
				if (mayLeadToTags(field.getType())) {
					fields.add(accessible(field, type));
				}
			}, (field) -> !Modifier.isStatic(field.getModifiers()) && !field.isSynthetic()
					&& !isJdk(field.getDeclaringClass()));
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
			return new TypeInfo(Kind.ENTITY, entity.value(), idField[0], idMethod, fields.toArray(NO_FIELDS));
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

		/** Whether a field of that declared type can hold something with tags. */
		private static boolean mayLeadToTags(Class<?> declared) {
			if (declared.isPrimitive() || (declared.isArray() && declared.getComponentType().isPrimitive())) {
				return false;
			}
			return !(isJdk(declared) && Modifier.isFinal(declared.getModifiers()) && declared != Optional.class);
		}

		private static boolean isJdk(Class<?> type) {
			String name = type.getName();
			return type.isPrimitive() || name.startsWith("java.") || name.startsWith("javax.")
					|| name.startsWith("jdk.") || name.startsWith("sun.") || name.startsWith("com.sun.");
		}

		private static <T extends java.lang.reflect.AccessibleObject & java.lang.reflect.Member> T accessible(T member,
				Class<?> type) {
			if (!member.trySetAccessible()) {
				throw new IllegalStateException("Cannot read " + member.getName() + " of @TagEntity type "
						+ type.getName() + ": open its package to tagcache (module-info 'opens')");
			}
			return member;
		}

	}

}
