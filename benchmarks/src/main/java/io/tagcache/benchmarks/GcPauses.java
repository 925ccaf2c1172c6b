package io.tagcache.benchmarks;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

/**
 * Records this JVM's garbage collections, so that a probe stall can be told apart from a client-side
 * pause: a window's GC time is the part of it the JVM spent collecting.
 */
final class GcPauses {

	private record Pause(long startMillis, long endMillis) {
	}

	private final List<Pause> pauses = new CopyOnWriteArrayList<>();

	private final long nanoOrigin = System.nanoTime();

	private final long uptimeOrigin = ManagementFactory.getRuntimeMXBean().getUptime();

	private final NotificationListener listener = (notification, handback) -> {
		if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
			var info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcInfo();
			this.pauses.add(new Pause(info.getStartTime(), info.getEndTime()));
		}
	};

	GcPauses() {
		for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
			((NotificationEmitter) gc).addNotificationListener(this.listener, null, null);
		}
	}

	/** Milliseconds of collection overlapping {@code [from, to]} (nanoTime). */
	long millisWithin(long from, long to) {
		long start = toUptimeMillis(from);
		long end = toUptimeMillis(to);
		long total = 0;
		for (Pause pause : this.pauses) {
			long overlap = Math.min(end, pause.endMillis()) - Math.max(start, pause.startMillis());
			if (overlap > 0) {
				total += overlap;
			}
		}
		return total;
	}

	private long toUptimeMillis(long nanoTime) {
		return this.uptimeOrigin + (nanoTime - this.nanoOrigin) / 1_000_000;
	}

}
