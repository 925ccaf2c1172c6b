package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;

import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.cache.interceptor.SimpleKey;
import org.springframework.util.ReflectionUtils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.mockito.BDDMockito.given;
import static org.mockito.Mockito.mock;

/**
 * How a call evaluates its expressions: a key that merely names an argument is read without creating
 * an evaluation context, which is created only for the first expression that needs SpEL. The
 * invocation is a mock; what is cached is tested against Redis in {@link TaggedCachingIntegrationTests}.
 */
class TagCacheInterceptorTests {

	private final TagCacheOperationSource source = new TagCacheOperationSource();

	private final TagCacheInterceptor interceptor = new TagCacheInterceptor(this.source,
			() -> mock(TaggedCacheManager.class), () -> new TagExtractor(List.of()));

	@Test
	void aKeyNamingAnArgumentIsReadWithoutAContext() throws Exception {
		for (String method : List.of("byName", "byP0", "byA0", "byRootArgs")) {
			TagCacheOperation.Cacheable operation = operation(method);
			assertThat(operation.keyArgument()).as(method).isZero();
			TagCacheInterceptor.Call call = call(operation, 42L);
			assertThat(call.key(operation)).as(method).isEqualTo(42L);
			assertThat(call.hasContext()).as(method).isFalse();
		}
	}

	@Test
	void aKeyNeedingSpelIsEvaluatedInAContext() throws Exception {
		Map<String, Object> keys = Map.of("plusOne", 43L, "prefixed", "x42", "byNameInParentheses", 42L);
		keys.forEach((method, key) -> {
			TagCacheOperation.Cacheable operation = operation(method);
			assertThat(operation.keyArgument()).as(method).isEqualTo(-1);
			TagCacheInterceptor.Call call = call(operation, 42L);
			assertThat(call.key(operation)).as(method).isEqualTo(key);
			assertThat(call.hasContext()).as(method).isTrue();
		});
	}

	@Test
	void theDefaultKeyIsGeneratedWithoutAContext() throws Exception {
		TagCacheOperation.Cacheable operation = operation("byDefault");
		assertThat(operation.keyArgument()).isEqualTo(-1);
		TagCacheInterceptor.Call call = call(operation, 42L);
		assertThat(call.key(operation)).isEqualTo(42L);
		assertThat(call.hasContext()).isFalse();
		TagCacheOperation.Cacheable two = (TagCacheOperation.Cacheable) this.source
			.getOperation(Service.class.getMethod("twoArguments", long.class, long.class), Service.class);
		assertThat(call(two, 1L, 2L).key(two)).isEqualTo(new SimpleKey(1L, 2L));
	}

	@Test
	void aNullArgumentAsKeyFailsAsWithSpel() throws Exception {
		TagCacheOperation.Cacheable simple = operation("byName");
		TagCacheOperation.Cacheable evaluated = operation("byNameInParentheses");
		assertThat(evaluated.keyArgument()).isEqualTo(-1);
		assertThatIllegalStateException().isThrownBy(() -> call(simple, (Object) null).key(simple))
			.withMessageEndingWith(": it returned null");
		assertThatIllegalStateException().isThrownBy(() -> call(evaluated, (Object) null).key(evaluated))
			.withMessageEndingWith(": it returned null");
	}

	@Test
	void aConditionStillCreatesTheContext() throws Exception {
		TagCacheOperation.Cacheable operation = operation("conditional");
		TagCacheInterceptor.Call call = call(operation, 42L);
		assertThat(call.isTrue(operation.condition())).isTrue();
		assertThat(call.key(operation)).isEqualTo(42L);
		assertThat(call.hasContext()).isTrue();
	}

	@Test
	void theResultReachesAContextCreatedAfterIt() throws Exception {
		TagCacheOperation.Cacheable operation = operation("unlessEmpty");
		TagCacheInterceptor.Call call = call(operation, 42L);
		call.setResult("");
		assertThat(call.hasContext()).isFalse();
		assertThat(call.isTrue(operation.unless())).isTrue();
		call.setResult("ann");
		assertThat(call.isTrue(operation.unless())).isFalse();
	}

	private TagCacheOperation.Cacheable operation(String name) {
		Method method = ReflectionUtils.findMethod(Service.class, name, Long.class);
		assertThat(method).as(name).isNotNull();
		return (TagCacheOperation.Cacheable) this.source.getOperation(method, Service.class);
	}

	private TagCacheInterceptor.Call call(TagCacheOperation operation, @Nullable Object... args) {
		MethodInvocation invocation = mock(MethodInvocation.class);
		Method method = operation.method();
		given(invocation.getMethod()).willReturn(method);
		given(invocation.getArguments()).willReturn(args);
		return this.interceptor.new Call(operation, invocation, new Service(), Service.class);
	}

	static class Service {

		@CacheableTagged(cacheNames = "users", key = "#id")
		public String byName(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "#p0")
		public String byP0(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "#a0")
		public String byA0(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "#root.args[0]")
		public String byRootArgs(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "(#id)")
		public String byNameInParentheses(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "#id + 1")
		public String plusOne(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "'x' + #id")
		public String prefixed(Long id) {
			return "";
		}

		@CacheableTagged("users")
		public String byDefault(Long id) {
			return "";
		}

		@CacheableTagged("users")
		public String twoArguments(long a, long b) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "#id", condition = "#id > 0")
		public String conditional(Long id) {
			return "";
		}

		@CacheableTagged(cacheNames = "users", key = "#id", unless = "#result.isEmpty()")
		public String unlessEmpty(Long id) {
			return "";
		}

	}

}
