package io.tagcache.interceptor;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.expression.EvaluationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Expressions that merely name an argument, resolved to its index: reading {@code args[index]} must
 * give exactly what SpEL gives, and anything else must be left to SpEL.
 */
class TagCacheExpressionEvaluatorTests {

	private final TagCacheExpressionEvaluator evaluator = new TagCacheExpressionEvaluator();

	@Test
	void argumentNamesAndIndexesReadTheSameValueAsSpel() throws Exception {
		Method find = Methods.class.getMethod("find", Long.class, String.class);
		Object[] args = { 42L, "ann" };
		assertReadsAsSpel("#id", find, args, 0);
		assertReadsAsSpel("#name", find, args, 1);
		assertReadsAsSpel("#p0", find, args, 0);
		assertReadsAsSpel("#a1", find, args, 1);
		assertReadsAsSpel("#root.args[0]", find, args, 0);
		assertReadsAsSpel("#root.args[1]", find, args, 1);
	}

	@Test
	void nullArgumentsReadAsNullAsWithSpel() throws Exception {
		Method find = Methods.class.getMethod("find", Long.class, String.class);
		Object[] args = { null, null };
		assertReadsAsSpel("#id", find, args, 0);
		assertReadsAsSpel("#p1", find, args, 1);
		assertReadsAsSpel("#root.args[0]", find, args, 0);
	}

	@Test
	void aParameterNamedLikeAnIndexVariableWinsAsWithSpel() throws Exception {
		// MethodBasedEvaluationContext sets a1/p1 for the second argument after p0 for the first
		Method shadowed = Methods.class.getMethod("shadowed", String.class, String.class);
		assertReadsAsSpel("#p0", shadowed, new Object[] { "first", "second" }, 1);
		assertReadsAsSpel("#p0", shadowed, new Object[] { "first", null }, 1);
		assertReadsAsSpel("#other", shadowed, new Object[] { "first", "second" }, 0);
	}

	@Test
	void everyOtherExpressionIsLeftToSpel() throws Exception {
		Method find = Methods.class.getMethod("find", Long.class, String.class);
		assertThat(this.evaluator.argumentIndex("#id + 1", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("'x' + #id", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#name.length()", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex(" #id", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#root", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#this", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#root.args[2]", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#root.args[01]", find)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#p2", find)).isEqualTo(-1);
		Method save = Methods.class.getMethod("save", User.class);
		assertThat(this.evaluator.argumentIndex("#user.id", save)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#user", save)).isEqualTo(0);
	}

	@Test
	void anUnknownNameIsLeftToSpelWhichYieldsNull() throws Exception {
		Method find = Methods.class.getMethod("find", Long.class, String.class);
		assertThat(this.evaluator.argumentIndex("#missing", find)).isEqualTo(-1);
		assertThat(spel("#missing", find, new Object[] { 42L, "ann" })).isNull();
	}

	@Test
	void anArgumentNamedResultIsLeftToSpel() throws Exception {
		// once the method returned, #result is the result, not the argument
		Method named = Methods.class.getMethod("named", String.class);
		assertThat(this.evaluator.argumentIndex("#result", named)).isEqualTo(-1);
		assertThat(this.evaluator.argumentIndex("#p0", named)).isEqualTo(0);
	}

	@Test
	void withoutParameterNamesOnlyIndexesAreResolved() {
		assertThat(TagCacheExpressionEvaluator.argumentIndex("#id", null, 2)).isEqualTo(-1);
		assertThat(TagCacheExpressionEvaluator.argumentIndex("#p1", null, 2)).isEqualTo(1);
		assertThat(TagCacheExpressionEvaluator.argumentIndex("#a0", null, 2)).isEqualTo(0);
		assertThat(TagCacheExpressionEvaluator.argumentIndex("#root.args[1]", null, 2)).isEqualTo(1);
		assertThat(TagCacheExpressionEvaluator.argumentIndex("#id", new String[] { "id" }, 2)).isEqualTo(-1);
	}

	@Test
	void anIndexBeyondTheArgumentsFailsInSpel() throws Exception {
		Method find = Methods.class.getMethod("find", Long.class, String.class);
		assertThatExceptionOfType(RuntimeException.class)
			.isThrownBy(() -> spel("#root.args[2]", find, new Object[] { 42L, "ann" }));
	}

	private void assertReadsAsSpel(String expression, Method method, @Nullable Object[] args, int expectedIndex) {
		int index = this.evaluator.argumentIndex(expression, method);
		assertThat(index).as(expression).isEqualTo(expectedIndex);
		assertThat(args[index]).as(expression).isSameAs(spel(expression, method, args));
	}

	private @Nullable Object spel(String expression, Method method, @Nullable Object[] args) {
		EvaluationContext context = this.evaluator.createContext(method, args, new Methods(), Methods.class, null);
		return this.evaluator.parse(expression, method, Methods.class).getValue(context);
	}

	record User(long id) {
	}

	static class Methods {

		public String find(Long id, String name) {
			return name + id;
		}

		public String shadowed(String other, String p0) {
			return other + p0;
		}

		public String save(User user) {
			return user.toString();
		}

		public String named(String result) {
			return result;
		}

	}

}
