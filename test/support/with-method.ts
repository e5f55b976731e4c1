/**
 * `target` with one method replaced and everything else passed through (methods bound to the
 * target): to delay or watch one call of a real store or uplink without faking the rest.
 */
export function withMethod<T extends object, K extends keyof T>(target: T, name: K, impl: T[K]): T {
  return new Proxy(target, {
    get(t, p) {
      if (p === name) return impl
      const v = Reflect.get(t, p) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
}
