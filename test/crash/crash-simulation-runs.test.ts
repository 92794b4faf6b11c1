import { crashSuite } from './suite.js'

crashSuite('crash simulation of pipeline runs and garbage collection', ['run', 'gc'])
