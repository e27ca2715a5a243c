// Preloaded into every Node process of a benchmark's lab (scale-main.ts
// --cpu-prof puts `--import <this file>` in NODE_OPTIONS, which the lab
// passes on to agents, guards and monitors; Node 20 refuses --cpu-prof
// there): samples the process's CPU with the inspector from its start and
// writes a .cpuprofile (Chrome DevTools, speedscope) into
// $FCM_BENCH_CPU_PROF_DIR when it exits normally (process.exit, the end of
// its work; not SIGKILL).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, join } from 'node:path';

const dir = process.env.FCM_BENCH_CPU_PROF_DIR;
if (dir !== undefined && dir !== '') {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // µs between samples: fine enough for handlers of a few ms.
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  // In-process inspector messages are answered synchronously, so this works in 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err !== null) return;
      const script = basename(process.argv[1] ?? 'node', '.js');
      writeFileSync(join(dir, `${script}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
