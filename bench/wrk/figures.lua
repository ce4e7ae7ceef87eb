-- What the wrk scripts print when a run ends: one JSON line of figures, the answers counted by status across
-- every thread (each thread counts its own in its global `statuses`).
local figures = {}

function figures.report(threads, summary, latency)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, '
      .. '"socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ", ")))
end

return figures
