import { crashSuite } from './suite.js'

crashSuite('crash simulation of commits, merges and imports', ['commit', 'merge', 'import'])
