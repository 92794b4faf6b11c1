import type { FastifyInstance } from 'fastify'
import { isTarnError } from '../../util/errors.js'
import type { ApiKeyStore } from '../auth/api-key-store.js'

/**
 * `POST /v1/oauth/tokens` (form-encoded): the OAuth2 client-credentials flow of Iceberg clients. The credential
 * `<key id>:<secret>` (client_id, client_secret) of an API key is exchanged for a short-lived signed access token
 * that the server accepts as that key. Errors use OAuth2's shape (`invalid_client` 401, `unsupported_grant_type` and
 * `invalid_request` 400). Secrets are never logged.
 */
export function oauthRoute(app: FastifyInstance, keys: ApiKeyStore | undefined): void {
  app.post<{ Body: Record<string, string> | undefined }>('/oauth/tokens', async (req, reply) => {
    const body = req.body ?? {}
    const fail = (status: number, error: string, description: string) =>
      reply.code(status).send({ error, error_description: description })
    if (body.grant_type !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 'tarn accepts grant_type=client_credentials')
    }
    if (!body.client_id || !body.client_secret) {
      return fail(400, 'invalid_request', 'send client_id and client_secret (credential=<key id>:<secret>)')
    }
    if (keys === undefined) return fail(401, 'invalid_client', 'this server has no API keys')
    try {
      const { token, expiresInMs } = await keys.issueAccessToken(`${body.client_id}.${body.client_secret}`)
      return reply.code(200).send({
        access_token: token,
        token_type: 'bearer',
        expires_in: Math.max(0, Math.floor(expiresInMs / 1000)),
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      })
    } catch (e) {
      if (isTarnError(e, 'UNAUTHORIZED')) return fail(401, 'invalid_client', e.message)
      throw e
    }
  })
}
