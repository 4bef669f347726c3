-- wrk script for bench/api_latency.py: the API key from the environment, and p50/p95/p99 in the summary.
-- SIERRA_BENCH_THINK_MS > 0: each connection pauses between requests (a client that does something with
-- each page), uniformly 0 to twice that long so the clients do not fall into step and arrive in bursts.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("SIERRA_BENCH_API_KEY")
local think = tonumber(os.getenv("SIERRA_BENCH_THINK_MS") or "0")

if think > 0 then
  delay = function()
    return math.random(0, 2 * think)
  end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d errors=%d non2xx=%d seconds=%.3f p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, seconds, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max))
end
