package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

/**
 * The registry of a key prefix ({@code <prefix>:caches}, a hash of cache name to number of shards):
 * how an invalidation reaches caches the invalidating instance never opened. A cache registers
 * before its first fence read; a registry that lost its {@code #complete} mark (a restart, a flush,
 * an eviction) is rebuilt from the keyspace before it is trusted again.
 */
final class CacheRegistry {

	private static final byte[] EMPTY = new byte[0];

	private static final byte[] ONE = CacheKeyspace.bytes("1");

	/** The field that marks a registry as complete; no cache name holds '#'. */
	private static final String REGISTRY_COMPLETE = "#complete";

	private final RedisCommandRunner redis;

	CacheRegistry(RedisCommandRunner redis) {
		this.redis = redis;
	}

	/**
	 * Record a cache and its number of shards in the registry of the prefix, so invalidations from
	 * any instance reach every shard of it. The registry keeps the largest number of shards any
	 * instance registered.
	 * @return the number of shards registered before, {@code 0} when the cache was not registered
	 */
	int register(String keyPrefix, String cacheName, int shards) {
		return this.redis.execute("registry", commands -> registerAsync(commands, keyPrefix, false, Map.of(cacheName, shards)))
			.get(0);
	}

	/** {@link #register} without blocking. */
	CompletableFuture<Integer> registerAsync(String keyPrefix, String cacheName, int shards) {
		return this.redis.executeAsync("registry",
				commands -> registerAsync(commands, keyPrefix, false, Map.of(cacheName, shards)))
			.thenApply(previous -> previous.get(0));
	}

	private CompletableFuture<List<Integer>> registerAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			String keyPrefix, boolean complete, Map<String, Integer> caches) {
		byte[][] args = new byte[1 + 2 * caches.size()][];
		args[0] = complete ? ONE : EMPTY;
		int i = 1;
		for (Map.Entry<String, Integer> cache : caches.entrySet()) {
			args[i++] = CacheKeyspace.bytes(cache.getKey());
			args[i++] = number(cache.getValue());
		}
		return RedisCommandRunner.<List<Long>>script(commands, TagCacheScript.REGISTER, ScriptOutputType.MULTI,
				new byte[][] { registryKey(keyPrefix) }, args)
			.thenApply(previous -> previous.stream().map(Long::intValue).toList());
	}

	/**
	 * Every cache that an instance with this prefix registered, with its number of shards. A registry
	 * that is not marked complete was lost (a restart, a flush, an eviction) or never built: it is
	 * rebuilt first from the fence state every used cache slot holds, found with {@code SCAN} (on a
	 * cluster, on every master), then marked complete. Caches registered meanwhile are kept.
	 */
	Map<String, Integer> registeredCaches(String keyPrefix) {
		Map<byte[], byte[]> entries = this.redis.execute("registry",
				commands -> commands.hgetall(registryKey(keyPrefix)).toCompletableFuture());
		Map<String, Integer> caches = new TreeMap<>();
		boolean complete = false;
		for (Map.Entry<byte[], byte[]> entry : entries.entrySet()) {
			String name = new String(entry.getKey(), StandardCharsets.UTF_8);
			if (name.equals(REGISTRY_COMPLETE)) {
				complete = true;
			}
			else {
				caches.put(name, Integer.parseInt(new String(entry.getValue(), StandardCharsets.US_ASCII)));
			}
		}
		if (!complete) {
			Map<String, Integer> found = findCaches(keyPrefix);
			found.forEach((name, shards) -> caches.merge(name, shards, Math::max));
			this.redis.execute("registry", commands -> registerAsync(commands, keyPrefix, true, found));
		}
		return caches;
	}

	/** The caches whose fence state is in Redis, with the highest shard found plus one. */
	private Map<String, Integer> findCaches(String keyPrefix) {
		String start = keyPrefix + ":{";
		Map<String, Integer> caches = new TreeMap<>();
		this.redis.scan(CacheKeyspace.escapeGlob(start) + "*}:gen", "registry", page -> {
			for (byte[] key : page) {
				String text = new String(key, StandardCharsets.UTF_8);
				String slot = text.substring(start.length(), text.length() - "}:gen".length());
				int hash = slot.lastIndexOf('#');
				String name = (hash >= 0) ? slot.substring(0, hash) : slot;
				int shards = (hash >= 0) ? Integer.parseInt(slot.substring(hash + 1)) + 1 : 1;
				if (!name.isEmpty() && name.indexOf('{') < 0 && name.indexOf('}') < 0) {
					caches.merge(name, shards, Math::max);
				}
			}
		});
		return caches;
	}

	static byte[] registryKey(String keyPrefix) {
		return CacheKeyspace.bytes(keyPrefix + ":caches");
	}

	private static byte[] number(long value) {
		return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
	}

}
