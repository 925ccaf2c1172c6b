package io.tagcache.autoconfigure;

import java.beans.Introspector;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.context.properties.bind.DataObjectPropertyName;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every {@code tagcache.*} property is described in the configuration metadata that IDEs show, which
 * the configuration processor derives from the field javadoc of {@link TagCacheProperties}. The
 * processor writes nothing for the properties of the values of {@code tagcache.caches}
 * ({@link TagCacheProperties.Cache}), so the description of {@code tagcache.caches} and the README's
 * table must name each of them.
 */
class ConfigurationMetadataTests {

	@Test
	void everyPropertyHasADescription() throws Exception {
		List<Map<String, Object>> properties = metadataProperties();
		assertThat(properties).extracting(property -> property.get("name"))
			.contains("tagcache.enabled", "tagcache.key-prefix", "tagcache.time-to-live", "tagcache.cache-null-values",
					"tagcache.caches", "tagcache.outage.cool-down");
		assertThat(properties).allSatisfy(property -> assertThat((String) property.get("description"))
			.as("description of %s", property.get("name"))
			.isNotBlank());
	}

	@Test
	void perCachePropertiesAreFoundOnTheSetters() {
		assertThat(perCacheProperties()).contains("time-to-live", "cache-null-values", "shards", "near-cache.enabled");
	}

	@Test
	void theDescriptionOfTheCachesNamesEveryPerCachePropertyWithItsDefault() throws Exception {
		String description = metadataProperties().stream()
			.filter(property -> "tagcache.caches".equals(property.get("name")))
			.map(property -> (String) property.get("description"))
			.findFirst()
			.orElseThrow(() -> new AssertionError("no tagcache.caches in the generated metadata"));
		List<String> names = perCacheProperties();
		assertThat(names).allSatisfy(name -> assertThat(position(description, name))
			.as("'%s' (a property of TagCacheProperties.Cache) in the description of tagcache.caches, which is "
					+ "the javadoc of TagCacheProperties.caches: \"%s\"", name, description)
			.isNotNegative());
		// each name is followed, before the next one, by its default: "default ..." or "unset means ..."
		List<String> inOrder = names.stream().sorted(Comparator.comparingInt(name -> position(description, name))).toList();
		for (int i = 0; i < inOrder.size(); i++) {
			int end = (i + 1 < inOrder.size()) ? position(description, inOrder.get(i + 1)) : description.length();
			String part = description.substring(position(description, inOrder.get(i)), end);
			assertThat(part).as("what the description of tagcache.caches says of '%s'", inOrder.get(i))
				.containsAnyOf("default", "unset means");
		}
	}

	@Test
	void theReadmeDescribesEveryPerCacheProperty() throws Exception {
		Path readme = Path.of("..", "README.md");
		assertThat(readme).as("README.md at the root of the repository").exists();
		String text = Files.readString(readme, StandardCharsets.UTF_8);
		assertThat(perCacheProperties()).allSatisfy(name -> {
			Matcher row = Pattern
				.compile("^\\|\\s*`tagcache\\.caches\\.<name>\\." + Pattern.quote(name) + "`\\s*\\|([^|]*)\\|(.*)\\|\\s*$",
						Pattern.MULTILINE)
				.matcher(text);
			assertThat(row.find()).as("a row | `tagcache.caches.<name>.%s` | default | meaning | in the README", name)
				.isTrue();
			assertThat(row.group(1)).as("default of tagcache.caches.<name>.%s in the README", name).isNotBlank();
			assertThat(row.group(2)).as("meaning of tagcache.caches.<name>.%s in the README", name).isNotBlank();
		});
	}

	/**
	 * Where {@code name} stands on its own in {@code description}, or -1: not as part of another name
	 * such as 'tagcache.time-to-live'.
	 */
	private static int position(String description, String name) {
		Matcher matcher = Pattern.compile("(?<![\\w.-])" + Pattern.quote(name) + "(?![\\w-])").matcher(description);
		return matcher.find() ? matcher.start() : -1;
	}

	/**
	 * The properties of one cache, {@code tagcache.caches.<name>.*}: the setters of its class, kebab-case,
	 * and those of its nested groups (a getter of a class of {@link TagCacheProperties} without setter,
	 * such as {@code near-cache.enabled}).
	 */
	private static List<String> perCacheProperties() {
		return properties(TagCacheProperties.Cache.class, "").sorted().toList();
	}

	private static Stream<String> properties(Class<?> type, String prefix) {
		Stream<String> own = Arrays.stream(type.getMethods())
			.filter(ConfigurationMetadataTests::isSetter)
			.map(setter -> prefix + dashed(setter.getName().substring(3)));
		Stream<String> nested = Arrays.stream(type.getMethods())
			.filter(getter -> getter.getName().startsWith("get") && getter.getParameterCount() == 0
					&& getter.getReturnType().getDeclaringClass() == TagCacheProperties.class)
			.flatMap(getter -> properties(getter.getReturnType(), prefix + dashed(getter.getName().substring(3)) + "."));
		return Stream.concat(own, nested);
	}

	private static String dashed(String property) {
		return DataObjectPropertyName.toDashedForm(Introspector.decapitalize(property));
	}

	private static boolean isSetter(Method method) {
		return !Modifier.isStatic(method.getModifiers()) && method.getName().startsWith("set")
				&& method.getName().length() > 3 && method.getParameterCount() == 1;
	}

	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> metadataProperties() throws Exception {
		try (InputStream in = ConfigurationMetadataTests.class
			.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("metadata generated by spring-boot-configuration-processor").isNotNull();
			Map<String, Object> metadata = JsonMapper.builder().build().readValue(in, Map.class);
			return (List<Map<String, Object>>) metadata.get("properties");
		}
	}

}
