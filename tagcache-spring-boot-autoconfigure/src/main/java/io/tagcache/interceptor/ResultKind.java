package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;

import org.jspecify.annotations.Nullable;

import org.springframework.core.GenericTypeResolver;
import org.springframework.core.ResolvableType;
import org.springframework.util.ClassUtils;

/**
 * How a method hands back its value, which decides what is cached (the value, never its wrapper) and
 * how a cached value is handed back. As in Spring's {@code @Cacheable}: the content of an
 * {@code Optional} (an empty one is cached as {@code null}), the completed value of a
 * {@code CompletableFuture} or {@code Mono}, and the elements of a {@code Flux} as a list.
 */
enum ResultKind {

	PLAIN, OPTIONAL, FUTURE, MONO, FLUX;

	private static final boolean REACTOR_PRESENT = ClassUtils.isPresent("reactor.core.publisher.Mono",
			ResultKind.class.getClassLoader());

	private static final @Nullable Class<?> PUBLISHER = ClassUtils.isPresent("org.reactivestreams.Publisher",
			ResultKind.class.getClassLoader()) ? ClassUtils.resolveClassName("org.reactivestreams.Publisher",
					ResultKind.class.getClassLoader()) : null;

	/**
	 * The kind of a method's results.
	 * @throws IllegalStateException for asynchronous types that are not supported
	 */
	static ResultKind of(Method method) {
		Class<?> type = method.getReturnType();
		if (type == Optional.class) {
			return OPTIONAL;
		}
		if (type == CompletableFuture.class || type == CompletionStage.class) {
			return FUTURE;
		}
		if (REACTOR_PRESENT && ReactorTypes.isMono(type)) {
			return MONO;
		}
		if (REACTOR_PRESENT && ReactorTypes.isFlux(type)) {
			return FLUX;
		}
		if (Future.class.isAssignableFrom(type) || (PUBLISHER != null && PUBLISHER.isAssignableFrom(type))) {
			throw new IllegalStateException("Unsupported asynchronous return type " + type.getName()
					+ ": declare CompletableFuture, Mono or Flux");
		}
		return PLAIN;
	}

	/**
	 * The type that values are stored and read back as: the method's generic return type, resolved
	 * against the target class and unwrapped.
	 */
	Type valueType(Method method, Class<?> targetClass) {
		Type declared = GenericTypeResolver.resolveType(method.getGenericReturnType(), targetClass);
		if (this == PLAIN) {
			return declared;
		}
		ResolvableType element = ResolvableType.forType(declared).getGeneric(0);
		Type elementType = (element == ResolvableType.NONE) ? Object.class : element.getType();
		if (this == FLUX) {
			return ResolvableType.forClassWithGenerics(List.class, ResolvableType.forType(elementType)).getType();
		}
		return elementType;
	}

	/** The cacheable value of a plain or {@code Optional} result. */
	@Nullable Object unwrap(@Nullable Object result) {
		return (this == OPTIONAL && result != null) ? ((Optional<?>) result).orElse(null) : result;
	}

	/** A plain or {@code Optional} result holding the value. */
	@Nullable Object wrap(@Nullable Object value) {
		return (this == OPTIONAL) ? Optional.ofNullable(value) : value;
	}

	/** Whether the value arrives after the method returns. */
	boolean isAsynchronous() {
		return this == FUTURE || this == MONO || this == FLUX;
	}

	/** Only loaded when Reactor is present. */
	private static final class ReactorTypes {

		static boolean isMono(Class<?> type) {
			return type == reactor.core.publisher.Mono.class;
		}

		static boolean isFlux(Class<?> type) {
			return type == reactor.core.publisher.Flux.class;
		}

	}

}
