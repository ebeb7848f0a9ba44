/**
 * In a contender's server: a CPU profile (V8's sampling profiler, main thread), a sampling heap
 * profile (allocations), GC counts, and CPU time per thread (main, libuv pool, V8 helpers) over
 * one window, started and stopped by bench/profile.mjs over IPC.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const session = new Session();
session.connect();
let gc;
let observer;
let threadsBefore;

/** CPU seconds per thread, from /proc (Linux): { name: seconds }, the others summed by name. */
function threadTimes() {
  const out = {};
  let dir;
  try {
    dir = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of dir) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // The libuv pool's threads are also called `node` on Node 20.
      const name = Number(tid) === process.pid ? 'main' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      // utime and stime, fields 14 and 15 of stat (1-based), in clock ticks of 10 ms.
      out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

const KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

/** `v8`: run V8's CPU and heap samplers too (they cost CPU themselves: leave them out under perf). */
export async function profiler({ action, file, v8 }) {
  if (action === 'start') {
    gc = {};
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = KINDS[entry.detail?.kind] ?? 'other';
        gc[kind] ??= { count: 0, ms: 0 };
        gc[kind].count++;
        gc[kind].ms += entry.duration;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    if (v8) {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('HeapProfiler.enable');
      // Short-lived allocations sampled too: those are what the GC works on.
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      await session.post('Profiler.start');
    }
    threadsBefore = threadTimes();
    return {};
  }
  const threadsAfter = threadTimes();
  observer.disconnect();
  if (v8) {
    const { profile } = await session.post('Profiler.stop');
    const { profile: heap } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(`${file}.cpuprofile`, JSON.stringify(profile));
    writeFileSync(`${file}.heapprofile`, JSON.stringify(heap));
  }
  const threads = {};
  for (const [name, seconds] of Object.entries(threadsAfter)) threads[name] = seconds - (threadsBefore[name] ?? 0);
  return { threads, gc };
}
