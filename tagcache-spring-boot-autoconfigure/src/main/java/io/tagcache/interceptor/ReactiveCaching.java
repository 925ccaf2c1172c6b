package io.tagcache.interceptor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

import io.tagcache.TaggedCache;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * {@code Mono} and {@code Flux} results; the only class that refers to Reactor, loaded only for methods
 * that return those types (so only when Reactor is present).
 *
 * <p>Nothing happens before subscription, as with any publisher. The lookup, the fence read and the
 * store never block (the cache's non-blocking load path); the method is called, and its publisher
 * subscribed, on {@link Schedulers#boundedElastic()}, as are invalidations, so that nothing blocks an
 * event loop. A {@code Flux} is cached as the list of its elements and replayed from it.
 */
final class ReactiveCaching {

	private static final Executor ELASTIC = (task) -> Schedulers.boundedElastic().schedule(task);

	private ReactiveCaching() {
	}

	static Object cacheable(TagCacheInterceptor interceptor, TagCacheInterceptor.Call call,
			TagCacheOperation.Cacheable operation, List<TaggedCache> caches, Object key) {
		// the method is called on the elastic scheduler: its publisher may block when subscribed
		Mono<Optional<Object>> value = Mono
			.fromFuture(() -> interceptor.retrieve(call, operation, caches, key,
					() -> CompletableFuture.supplyAsync(() -> proceed(call), ELASTIC)
						.thenCompose((result) -> toStage(result, operation.resultKind()))))
			.map(Optional::of)
			.defaultIfEmpty(Optional.empty());
		if (operation.resultKind() == ResultKind.MONO) {
			return value.flatMap(Mono::justOrEmpty);
		}
		return value.flatMapMany((elements) -> elements.isPresent()
				? Flux.fromIterable((Iterable<?>) elements.get()) : Flux.empty());
	}

	private static @Nullable Object proceed(TagCacheInterceptor.Call call) {
		try {
			return call.proceed();
		}
		catch (RuntimeException | Error ex) {
			throw ex;
		}
		catch (Throwable ex) {
			throw new CompletionException(ex);
		}
	}

	@SuppressWarnings("unchecked")
	private static CompletableFuture<@Nullable Object> toStage(@Nullable Object result, ResultKind kind) {
		if (result == null) {
			return CompletableFuture.completedFuture(null);
		}
		return (CompletableFuture<@Nullable Object>) ((kind == ResultKind.MONO) ? ((Mono<?>) result).toFuture()
				: ((Flux<?>) result).collectList().toFuture());
	}

	@SuppressWarnings("unchecked")
	static @Nullable Object invalidateAfter(TagCacheInterceptor interceptor, TagCacheInterceptor.Call call,
			TagCacheOperation.Invalidate operation, @Nullable Object result) {
		if (result == null) {
			return null;
		}
		if (operation.resultKind() == ResultKind.MONO) {
			return ((Mono<Object>) result).map(Optional::of)
				.defaultIfEmpty(Optional.empty())
				.flatMap((value) -> Mono.fromRunnable(() -> interceptor.invalidateTags(call, operation, value.orElse(null)))
					.subscribeOn(Schedulers.boundedElastic())
					.thenReturn(value))
				.flatMap(Mono::justOrEmpty);
		}
		Flux<Object> flux = (Flux<Object>) result;
		return Flux.defer(() -> {
			List<Object> elements = Collections.synchronizedList(new ArrayList<>());
			return flux.doOnNext(elements::add)
				.concatWith(Mono.fromRunnable(() -> interceptor.invalidateTags(call, operation, elements))
					.subscribeOn(Schedulers.boundedElastic())
					.then(Mono.empty()));
		});
	}

}
