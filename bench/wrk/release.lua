-- wrk script: each request releases a different valid slip (tokens from BENCH_TOKENS, one per line, dealt out
-- among wrk's threads), with its own Idempotency-Key. Prints one JSON line of figures when the run ends.
local threads = {}
local counter = 0
statuses = {}  -- a global, so that done() can read each thread's counts
local tokens = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if i % n == id then
      table.insert(tokens, line)
    end
    i = i + 1
  end
  auth = "Bearer " .. os.getenv("BENCH_DEVICE_TOKEN")
  path = os.getenv("BENCH_PATH")
  body_format = os.getenv("BENCH_BODY")
end

function request()
  counter = counter + 1
  local token = tokens[(counter - 1) % #tokens + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = auth,
    ["Idempotency-Key"] = string.format("bench-%d-%09d", id, counter),
  }
  return wrk.format("POST", path, headers, string.format(body_format, token))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
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
