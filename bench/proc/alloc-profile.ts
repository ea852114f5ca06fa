// Preloaded into a Node broker with `--import` when BENCH_BROKER_ALLOC_DIR is
// set: V8's sampling heap profiler, counting objects the GC collected too (so
// it shows where the garbage of a run is allocated, not only what stays live),
// written to <dir>/alloc-<pid>.heapprofile when the process exits (Chrome
// DevTools opens it). Sampling one allocation per 16 KB costs little.
import { Session } from 'node:inspector'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const dir = process.env.BENCH_BROKER_ALLOC_DIR
if (dir !== undefined && dir !== '') {
  const session = new Session()
  session.connect()
  session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  process.on('exit', () => {
    // an in-process session answers synchronously, so this runs before the process is gone
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (err === null) writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile))
    })
  })
}
