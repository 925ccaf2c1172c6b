package io.tagcache.redis;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import org.springframework.cache.interceptor.SimpleKey;
import org.springframework.util.ReflectionUtils;

/**
 * Turns cache keys into the stable strings that name Redis entries.
 *
 * <p>Scalars (strings, numbers, booleans, characters, enums, UUIDs, dates and times) map to their
 * text, so {@code 1} and {@code "1"} name the same entry, as with Spring Data Redis. Composite keys
 * ({@link SimpleKey}, lists, arrays, records) map to a bracketed, comma-separated form in which
 * strings are quoted, so that {@code ["a,b"]} and {@code ["a","b"]} stay distinct. Any other type
 * must override {@code toString()}; the identity-based default would name a different entry for
 * every instance, so it is refused with an error.
 */
final class CacheKeyConverter {

	private static final Field SIMPLE_KEY_PARAMS;

	static {
		Field field = ReflectionUtils.findField(SimpleKey.class, "params");
		if (field == null) {
			throw new IllegalStateException("SimpleKey.params not found: incompatible Spring Framework version");
		}
		ReflectionUtils.makeAccessible(field);
		SIMPLE_KEY_PARAMS = field;
	}

	String convert(Object key, String cacheName) {
		// The most common keys first, without a builder; the same text as append() gives them
		if (key instanceof String text) {
			return text;
		}
		if (key instanceof Long number) {
			return Long.toString(number);
		}
		if (key instanceof Integer number) {
			return Integer.toString(number);
		}
		if (key instanceof CharSequence text) {
			return text.toString();
		}
		StringBuilder out = new StringBuilder(32);
		append(out, key, cacheName, false);
		return out.toString();
	}

	private void append(StringBuilder out, Object key, String cacheName, boolean nested) {
		if (key instanceof CharSequence text) {
			if (nested) {
				quote(out, text.toString());
			}
			else {
				out.append(text);
			}
		}
		else if (key instanceof Number || key instanceof Boolean || key instanceof Character
				|| key instanceof UUID || key instanceof TemporalAccessor) {
			out.append(key);
		}
		else if (key instanceof Enum<?> constant) {
			out.append(constant.name());
		}
		else if (key instanceof SimpleKey simpleKey) {
			appendAll(out, simpleKeyParams(simpleKey).iterator(), cacheName);
		}
		else if (key instanceof Collection<?> collection && !(key instanceof Set<?>)) {
			appendAll(out, collection.iterator(), cacheName);
		}
		else if (key.getClass().isArray()) {
			int length = Array.getLength(key);
			List<Object> elements = new ArrayList<>(length);
			for (int i = 0; i < length; i++) {
				elements.add(Array.get(key, i));
			}
			appendAll(out, elements.iterator(), cacheName);
		}
		else if (key instanceof Record record) {
			out.append(record.getClass().getSimpleName()).append('(');
			RecordComponent[] components = record.getClass().getRecordComponents();
			for (int i = 0; i < components.length; i++) {
				if (i > 0) {
					out.append(',');
				}
				Object value = ReflectionUtils.invokeMethod(accessible(components[i].getAccessor()), record);
				appendNullable(out, value, cacheName);
			}
			out.append(')');
		}
		else if (key instanceof Map<?, ?> || key instanceof Set<?> || !overridesToString(key.getClass())) {
			throw new IllegalArgumentException("Cannot use a key of type " + key.getClass().getName() + " in cache '"
					+ cacheName + "': use a String, number, UUID, enum, date, record, list or array of them, "
					+ "or a type that overrides toString(); or give the method a key expression");
		}
		else {
			out.append(key);
		}
	}

	private void appendAll(StringBuilder out, Iterator<?> elements, String cacheName) {
		out.append('[');
		boolean first = true;
		while (elements.hasNext()) {
			if (!first) {
				out.append(',');
			}
			first = false;
			appendNullable(out, elements.next(), cacheName);
		}
		out.append(']');
	}

	private void appendNullable(StringBuilder out, @Nullable Object value, String cacheName) {
		if (value == null) {
			out.append("null");
		}
		else {
			append(out, value, cacheName, true);
		}
	}

	private static void quote(StringBuilder out, String text) {
		out.append('"');
		for (int i = 0; i < text.length(); i++) {
			char c = text.charAt(i);
			if (c == '"' || c == '\\') {
				out.append('\\');
			}
			out.append(c);
		}
		out.append('"');
	}

	private static List<Object> simpleKeyParams(SimpleKey key) {
		// SimpleKey keeps its parameters private; its toString() is not meant for parsing.
		Object[] params = (Object[]) ReflectionUtils.getField(SIMPLE_KEY_PARAMS, key);
		return Arrays.asList(params);
	}

	private static Method accessible(Method method) {
		ReflectionUtils.makeAccessible(method);
		return method;
	}

	private static boolean overridesToString(Class<?> type) {
		Method toString = ReflectionUtils.findMethod(type, "toString");
		return toString != null && toString.getDeclaringClass() != Object.class;
	}

}
