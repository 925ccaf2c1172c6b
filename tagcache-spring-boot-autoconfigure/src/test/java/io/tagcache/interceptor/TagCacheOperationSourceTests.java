package io.tagcache.interceptor;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import io.tagcache.TagCacheConfigurationException;
import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.annotation.TagEntity;
import io.tagcache.redis.RedisTaggedCacheManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.core.ResolvableType;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Parsing of the annotations, and the mistakes that must fail start-up with a message naming the
 * class, method and attribute.
 */
@ExtendWith(OutputCaptureExtension.class)
class TagCacheOperationSourceTests {

	private final TagCacheOperationSource source = new TagCacheOperationSource();

	@Test
	void parsesCacheableWithAliasesTtlAndUnwrappedValueType() throws Exception {
		TagCacheOperation.Cacheable operation = (TagCacheOperation.Cacheable) this.source
			.getOperation(Valid.class.getMethod("find", long.class), Valid.class);
		assertThat(operation.cacheNames()).containsExactly("users");
		assertThat(operation.timeToLive()).isEqualTo(Duration.ofMinutes(10));
		assertThat(operation.resultKind()).isEqualTo(ResultKind.OPTIONAL);
		assertThat(operation.valueType()).isEqualTo(String.class);
		assertThat(operation.tags()).extracting(TagCacheOperation.NamedExpression::source)
			.containsExactly("'a-' + #id", "#result");
	}

	@Test
	void valueTypesAreUnwrappedFromFuturesAndFluxes() throws Exception {
		TagCacheOperation.Cacheable future = (TagCacheOperation.Cacheable) this.source
			.getOperation(Valid.class.getMethod("future"), Valid.class);
		assertThat(ResolvableType.forType(future.valueType())).hasToString("java.util.List<java.lang.String>");
		assertThat(future.timeToLive()).isEqualTo(Duration.ofSeconds(90));
		TagCacheOperation.Cacheable flux = (TagCacheOperation.Cacheable) this.source
			.getOperation(Valid.class.getMethod("flux"), Valid.class);
		assertThat(ResolvableType.forType(flux.valueType())).hasToString("java.util.List<java.lang.Long>");
	}

	@Test
	void parsesInvalidateTags() throws Exception {
		TagCacheOperation.Invalidate operation = (TagCacheOperation.Invalidate) this.source
			.getOperation(Valid.class.getMethod("change", long.class), Valid.class);
		assertThat(operation.beforeInvocation()).isTrue();
		assertThat(operation.tags()).extracting(TagCacheOperation.NamedExpression::source)
			.containsExactly("'a-' + #id");
	}

	@Test
	void annotationsOnInterfacesAreFound() throws Exception {
		assertThat(this.source.hasOperation(Api.class.getMethod("get", long.class), ApiImpl.class)).isTrue();
		assertThat(this.source.hasOperation(Valid.class.getMethod("toString"), Valid.class)).isFalse();
	}

	@Test
	void aTagExpressionThatDoesNotParseNamesClassMethodAndExpression() {
		assertThatIllegalStateException().isThrownBy(() -> operation(BadTag.class, "find", long.class))
			.withMessageStartingWith("Invalid tag expression '#user.' on " + BadTag.class.getName() + ".find(long): ");
	}

	@Test
	void otherExpressionsThatDoNotParseNameTheirAttribute() {
		assertThatIllegalStateException().isThrownBy(() -> operation(BadKey.class, "find", long.class))
			.withMessageStartingWith("Invalid key expression '#id +' on " + BadKey.class.getName() + ".find(long)");
		assertThatIllegalStateException().isThrownBy(() -> operation(BadCondition.class, "change", String.class))
			.withMessageStartingWith("Invalid condition expression '((' on " + BadCondition.class.getName()
					+ ".change(String)");
	}

	@Test
	void aMalformedTtlNamesTheMethod() {
		assertThatIllegalStateException().isThrownBy(() -> operation(BadTtl.class, "find", long.class))
			.withMessageStartingWith("Invalid ttl 'ten minutes' on " + BadTtl.class.getName() + ".find(long)");
	}

	@Test
	void syncNeedsExactlyOneCache() {
		assertThatIllegalStateException().isThrownBy(() -> operation(SyncTwoCaches.class, "find", long.class))
			.withMessageContaining("names 2 caches");
	}

	@Test
	void unsupportedAsynchronousTypesAreRefused() {
		assertThatIllegalStateException().isThrownBy(() -> operation(PlainFuture.class, "find", long.class))
			.withMessageContaining("Unsupported asynchronous return type java.util.concurrent.Future");
	}

	@Test
	void aDeclaredEntityTypeWithoutIdFailsStartup() {
		assertThatIllegalStateException().isThrownBy(() -> operation(EntityWithoutId.class, "all"))
			.withMessageContaining("@TagEntity type " + NoId.class.getName() + " has no member annotated @TagId")
			.withMessageContaining("(returned by " + EntityWithoutId.class.getName() + ".all())");
	}

	@Test
	void aVariableThatIsNoParameterFailsStartupNamingMethodExpressionAndTheParameters() {
		assertThatExceptionOfType(TagCacheConfigurationException.class)
			.isThrownBy(() -> operation(MisspeltVariable.class, "byAuthor", long.class, String.class))
			.withMessageContaining("The tag expression ''author-' + #authorID' on ")
			.withMessageContaining(MisspeltVariable.class.getName() + ".byAuthor(long,String)")
			.withMessageContaining("#authorID")
			.withMessageContaining("its parameters are #authorId, #title")
			.satisfies((ex) -> assertThat(ex.getAction()).contains("#authorId"));
		assertThatExceptionOfType(TagCacheConfigurationException.class)
			.isThrownBy(() -> operation(MisspeltVariable.class, "invalidate", long.class))
			.withMessageContaining("#user");
		assertThatExceptionOfType(TagCacheConfigurationException.class)
			.isThrownBy(() -> operation(MisspeltVariable.class, "beyondTheParameters", long.class))
			.withMessageContaining("#p1");
	}

	@Test
	void variablesEveryCallDefinesAreAccepted() throws Exception {
		assertThat(operation(DefinedVariables.class, "find", long.class, String.class)).isNotNull();
	}

	@Test
	void annotatedMethodsNoProxyInterceptsAreReportedWhenTheirClassIsFirstSeen(CapturedOutput output) {
		assertThat(this.source.isCandidateClass(Unproxied.class)).isTrue();
		this.source.isCandidateClass(Unproxied.class);
		assertThat(output).contains("@CacheableTagged on " + Unproxied.class.getName()
				+ ".secret(long) is ignored: the method is private")
			.contains("@InvalidateTags on " + Unproxied.class.getName() + ".sealed(long) is ignored: the method is final")
			.doesNotContain(".visible(long) is ignored");
		assertThat(output.getOut().split("secret\\(long\\) is ignored", -1)).as("once").hasSize(2);
	}

	@Test
	void bothAnnotationsOnOneMethodAreRefused() {
		assertThatIllegalStateException().isThrownBy(() -> operation(Both.class, "find", long.class))
			.withMessageContaining("@CacheableTagged and @InvalidateTags on the same method");
	}

	@Test
	void anInvalidAnnotationFailsStartup() {
		new ApplicationContextRunner().withUserConfiguration(TaggedCachingConfiguration.class)
			.withBean(TaggedCacheManager.class, () -> RedisTaggedCacheManager.builder(new LettuceConnectionFactory())
				.build())
			.withBean(BadTag.class)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasMessageContaining("Invalid tag expression '#user.' on " + BadTag.class.getName() + ".find(long)"));
	}

	@Test
	void annotatedBeansWithoutACacheManagerFailStartup() {
		new ApplicationContextRunner().withUserConfiguration(TaggedCachingConfiguration.class)
			.withBean(Valid.class)
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.hasMessageContaining("need a unique TaggedCacheManager bean"));
	}

	private TagCacheOperation operation(Class<?> type, String name, Class<?>... parameterTypes) throws Exception {
		return this.source.getOperation(type.getMethod(name, parameterTypes), type);
	}

	static class MisspeltVariable {

		@CacheableTagged(cacheNames = "books", tags = "'author-' + #authorID")
		public String byAuthor(long authorId, String title) {
			return title;
		}

		@InvalidateTags("'user-' + #user.id")
		public void invalidate(long userId) {
		}

		@CacheableTagged(cacheNames = "books", key = "#p1")
		public String beyondTheParameters(long id) {
			return "";
		}

	}

	static class DefinedVariables {

		@CacheableTagged(cacheNames = "books", key = "#p0 + #a1 + #root.methodName",
				condition = "#id > 0 && #this != null", unless = "#result == null",
				tags = { "'a-' + #id", "#name", "#result", "{1, 2}.?[#this > 1]" })
		public String find(long id, String name) {
			return name;
		}

	}

	static class Unproxied {

		@CacheableTagged(cacheNames = "books")
		private String secret(long id) {
			return "";
		}

		@InvalidateTags("'book-' + #id")
		public final void sealed(long id) {
		}

		@CacheableTagged(cacheNames = "books")
		public String visible(long id) {
			return secret(id);
		}

	}

	static class Valid {

		@CacheableTagged(value = "users", tags = { "'a-' + #id", "#result" }, ttl = "10m")
		public Optional<String> find(long id) {
			return Optional.empty();
		}

		@CacheableTagged(cacheNames = "lists", ttl = "PT90S")
		public CompletableFuture<List<String>> future() {
			return CompletableFuture.completedFuture(List.of());
		}

		@CacheableTagged("lists")
		public Flux<Long> flux() {
			return Flux.empty();
		}

		@InvalidateTags(tags = "'a-' + #id", beforeInvocation = true)
		public void change(long id) {
		}

	}

	interface Api {

		@CacheableTagged("api")
		String get(long id);

	}

	static class ApiImpl implements Api {

		@Override
		public String get(long id) {
			return "";
		}

	}

	static class BadTag {

		@CacheableTagged(cacheNames = "users", tags = "#user.")
		public String find(long id) {
			return "";
		}

	}

	static class BadKey {

		@CacheableTagged(cacheNames = "users", key = "#id +")
		public String find(long id) {
			return "";
		}

	}

	static class BadCondition {

		@InvalidateTags(value = "'a'", condition = "((")
		public void change(String id) {
		}

	}

	static class BadTtl {

		@CacheableTagged(cacheNames = "users", ttl = "ten minutes")
		public String find(long id) {
			return "";
		}

	}

	static class SyncTwoCaches {

		@CacheableTagged(cacheNames = { "a", "b" }, sync = true)
		public String find(long id) {
			return "";
		}

	}

	static class PlainFuture {

		@CacheableTagged("a")
		public Future<String> find(long id) {
			return CompletableFuture.completedFuture("");
		}

	}

	@TagEntity("none")
	record NoId(String name) {
	}

	static class EntityWithoutId {

		@CacheableTagged("a")
		public List<Optional<NoId>> all() {
			return List.of();
		}

	}

	static class Both {

		@CacheableTagged("a")
		@InvalidateTags("'a'")
		public String find(long id) {
			return "";
		}

	}

}
