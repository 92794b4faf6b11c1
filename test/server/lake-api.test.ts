import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiKeyStore, Lake, RemoteLake, serve } from '../../src/index.js'
import { describeLakeApiContract } from './lake-api.contract.js'

describeLakeApiContract('embedded Lake', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-api-'))
  const lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
  return { api: lake, dir, close: () => lake.close() }
})

describeLakeApiContract('RemoteLake over tarn serve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-api-remote-'))
  const lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
  const keys = new ApiKeyStore(lake.catalog.backend, lake)
  const server = await serve({ lake, keys, host: '127.0.0.1', port: 0 })
  const api = RemoteLake.connect({ url: server.url })
  return {
    api,
    dir,
    close: async () => {
      await api.close()
      await server.close()
      await lake.close()
    },
  }
})
