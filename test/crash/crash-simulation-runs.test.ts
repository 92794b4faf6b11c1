import { crashSuite } from './suite.js'

crashSuite(
  'crash simulation of pipeline runs and garbage collection',
  'test/crash/crash-simulation-runs.test.ts',
  ['run', 'gc'],
)
