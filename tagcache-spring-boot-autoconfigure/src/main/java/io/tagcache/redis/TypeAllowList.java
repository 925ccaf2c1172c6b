package io.tagcache.redis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.springframework.util.Assert;

/**
 * The types that an untyped read ({@code Cache.get(key)}, used by Spring's {@code @Cacheable}) may
 * instantiate from the type hint stored with an entry. A hint naming any other type is refused
 * before its class is even loaded, so an entry crafted by someone with write access to Redis
 * cannot make the application instantiate arbitrary classes. Typed reads (through the annotations
 * or {@code get(key, Class)}) use the caller's type and do not consult this list.
 *
 * <p>Entries are exact class names ({@code java.util.UUID}) or packages ending in a dot
 * ({@code com.example.}), which include their sub-packages. Immutable.
 */
public final class TypeAllowList {

	private static final List<String> JDK_VALUE_TYPES = List.of("java.lang.String", "java.lang.Integer",
			"java.lang.Long", "java.lang.Short", "java.lang.Byte", "java.lang.Double", "java.lang.Float",
			"java.lang.Boolean", "java.lang.Character", "java.lang.Object", "java.math.BigDecimal",
			"java.math.BigInteger", "java.util.UUID", "java.util.List", "java.util.Set", "java.util.SortedSet",
			"java.util.Map", "java.util.SortedMap", "java.util.Optional", "java.util.Locale", "java.util.Currency",
			"java.net.URI", "java.time.");

	private final Set<String> entries;

	private TypeAllowList(Set<String> entries) {
		this.entries = Collections.unmodifiableSet(entries);
	}

	/** The plain JDK value types: strings, boxed primitives, big numbers, {@code java.time}, collections. */
	public static TypeAllowList jdkValueTypes() {
		return new TypeAllowList(new LinkedHashSet<>(JDK_VALUE_TYPES));
	}

	/**
	 * Return a list that also allows the given packages (with their sub-packages) or exact types.
	 * @param packagesOrTypes package names such as {@code com.example} or class names
	 * @return a new list
	 */
	public TypeAllowList and(String... packagesOrTypes) {
		Set<String> entries = new LinkedHashSet<>(this.entries);
		for (String entry : packagesOrTypes) {
			Assert.hasText(entry, "An allowed package or type must not be empty");
			entries.add(entry.endsWith(".") || Character.isUpperCase(lastSegment(entry).charAt(0)) ? entry
					: entry + ".");
		}
		return new TypeAllowList(entries);
	}

	/** Whether the named class may be instantiated by an untyped read. */
	public boolean allows(String className) {
		if (this.entries.contains(className)) {
			return true;
		}
		for (String entry : this.entries) {
			if (entry.endsWith(".") && className.startsWith(entry)) {
				return true;
			}
		}
		return false;
	}

	/** The allowed types and packages (packages end with a dot). */
	public List<String> entries() {
		return new ArrayList<>(this.entries);
	}

	private static String lastSegment(String name) {
		return name.substring(name.lastIndexOf('.') + 1);
	}

	@Override
	public String toString() {
		return "TypeAllowList" + this.entries;
	}

}
