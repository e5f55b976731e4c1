/**
 * `GET /`, `/app.js`, `/style.css`: the live status page. Served with a strict CSP (same-origin
 * script, style and fetch only; no inline code, no framing, no forms), behind the same Host check
 * as the API so a DNS-rebinding page cannot load it either.
 */
import type { AdminResponse, AdminRoutes } from '../admin-http.js'
import { APP_JS } from '../page/app-js.js'
import { INDEX_HTML } from '../page/index-html.js'
import { STYLE_CSS } from '../page/style-css.js'
import { guarded, type AccessPolicy } from './request-guard.js'

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

function asset(contentType: string, body: string): AdminResponse {
  return {
    status: 200,
    headers: {
      'content-type': contentType,
      'content-security-policy': PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    },
    body,
  }
}

export function pageRoutes(access: AccessPolicy): AdminRoutes {
  const html = asset('text/html; charset=utf-8', INDEX_HTML)
  const js = asset('text/javascript; charset=utf-8', APP_JS)
  const css = asset('text/css; charset=utf-8', STYLE_CSS)
  return {
    '/': { GET: guarded(access, () => html) },
    '/app.js': { GET: guarded(access, () => js) },
    '/style.css': { GET: guarded(access, () => css) },
  }
}
