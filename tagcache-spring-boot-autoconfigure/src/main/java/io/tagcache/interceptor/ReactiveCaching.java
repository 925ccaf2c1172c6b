package io.tagcache.interceptor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
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
 * <p>Nothing happens before subscription, as with any publisher. The lookup does not block; the steps
 * that do (reading the fence, storing, invalidating) run on {@link Schedulers#boundedElastic()} so that
 * they never block an event loop. A {@code Flux} is cached as the list of its elements and replayed
 * from it.
 */
final class ReactiveCaching {

	private static final Executor ELASTIC = (task) -> Schedulers.boundedElastic().schedule(task);

	private ReactiveCaching() {
	}

	static Object cacheable(TagCacheInterceptor interceptor, TagCacheInterceptor.Call call,
			TagCacheOperation.Cacheable operation, List<TaggedCache> caches, Object key) {
		Mono<Optional<Object>> cached = Mono.fromFuture(() -> interceptor.lookupAsync(operation, caches, key))
			.map((hit) -> Optional.ofNullable(hit.get()));
		Mono<Optional<Object>> loaded = Mono.fromCallable(() -> interceptor.readFences(caches, key))
			.subscribeOn(Schedulers.boundedElastic())
			.flatMap((fences) -> Mono.fromFuture(() -> load(interceptor, call, operation, caches, key, fences)))
			.map(Optional::of)
			.defaultIfEmpty(Optional.empty());
		Mono<Optional<Object>> value = cached.switchIfEmpty(Mono.defer(() -> loaded));
		if (operation.resultKind() == ResultKind.MONO) {
			return value.flatMap(Mono::justOrEmpty);
		}
		return value.flatMapMany((elements) -> elements.isPresent()
				? Flux.fromIterable((Iterable<?>) elements.get()) : Flux.empty());
	}

	private static CompletableFuture<@Nullable Object> load(TagCacheInterceptor interceptor,
			TagCacheInterceptor.Call call, TagCacheOperation.Cacheable operation, List<TaggedCache> caches, Object key,
			long[] fences) {
		try {
			return interceptor.loadAsync(call, operation, caches, key, fences,
					() -> toStage(call.proceed(), operation.resultKind()), ELASTIC);
		}
		catch (Throwable ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	private static @Nullable CompletionStage<?> toStage(@Nullable Object result, ResultKind kind) {
		if (result == null) {
			return null;
		}
		return (kind == ResultKind.MONO) ? ((Mono<?>) result).toFuture() : ((Flux<?>) result).collectList().toFuture();
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
