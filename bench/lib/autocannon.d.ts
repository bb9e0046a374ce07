// The part of autocannon 9's API that bench/api.ts uses (the package ships no types).
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string
    method?: string
    headers?: Record<string, string>
    body?: string
    connections?: number
    /** Seconds. */
    duration?: number
    pipelining?: number
  }
  interface AutocannonResult {
    /** Seconds. */
    duration: number
    errors: number
    non2xx: number
    requests: { total: number; average: number }
    latency: { p50: number; p99: number; average: number }
    statusCodeStats: Record<string, { count: number }>
  }
  function autocannon(options: AutocannonOptions): Promise<AutocannonResult>
  export default autocannon
}
