import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, queueOptions } from '../cli/options.js'

/** `imo worker --queue URL`: runs inference jobs for `imo serve --queue` on this machine. */
export function workerCommand(): Command {
  const command = new Command('worker').description(
    'run inference jobs from the queue of `imo serve --queue` until Ctrl-C; holds no key (the dispatcher signs)',
  )
  addOptionGroups(command, queueOptions)
  command
    .addOption(
      new Option(
        '--model <PATH>',
        "the model (default: the --deployment's recorded model path); jobs for another model hash are refused",
      ),
    )
    .addOption(new Option('--concurrency <N>', 'jobs run at the same time in this process (default 1)').env('IMO_CONCURRENCY'))
    .addOption(
      new Option(
        '--lock-ms <MS>',
        "how long a job's lock lasts unrenewed (default 10000, 1000-3600000): longer than the model's longest single run, which blocks the renewal; a killed worker's job moves to another worker after it",
      ).env('IMO_LOCK_MS'),
    )
    .addOption(
      new Option(
        '--metrics-port <PORT>',
        'serve /metrics (Prometheus: jobs by status, job seconds, Redis errors) and /healthz (503 while Redis is lost) on 127.0.0.1:PORT',
      ),
    )
  addOptionGroups(command, deploymentOptions)
  command.action(async (_options: unknown, cmd: Command) => {
    const { runWorker } = await import('../queue/runWorker.js')
    const { printResult } = await import('../cli/ui.js')
    const { queueUrlFromFlags } = await import('../cli/queueUrlFromFlags.js')
    const queue = await queueUrlFromFlags(cmd) // a bad URL fails before the model is loaded
    await runWorker({ ...cmd.opts(), ...(queue ? { queue } : {}) }, (summary) =>
      printResult(
        summary,
        (s) => `worker ${s.worker} stopped: ${s.completed} completed, ${s.failed} failed, ${s.refused} refused`,
      ),
    )
  })
  return withExamples(command, [
    'imo worker --queue redis://10.0.0.5:6379/0 --model ./models/cppn',
    'IMO_QUEUE=redis://10.0.0.5:6379/0 IMO_QUEUE_PASSWORD_FILE=/run/secrets/redis-password imo worker --deployment deployment.json --concurrency 2 --json',
    'imo worker --queue redis://10.0.0.5:6379/0 --model ./models/cppn --artifact-dir /mnt/imo-artifacts --metrics-port 9465',
    'node --single-threaded-gc "$(command -v imo)" worker --queue redis://10.0.0.5:6379/0 --model ./models/tinylm',
    'imo worker --queue redis://10.0.0.5:6379/0 --model ./image-model --lock-ms 120000   # model runs of up to 2 minutes',
  ])
}
