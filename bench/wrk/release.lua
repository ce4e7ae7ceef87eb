-- wrk script: each request releases a different valid slip (tokens from BENCH_TOKENS, one per line, dealt out
-- among wrk's threads), with its own Idempotency-Key. Prints one JSON line of figures when the run ends.
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local figures = require("figures")
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
  run = os.getenv("BENCH_RUN") or ""  -- new keys for each run against the same server
end

function request()
  counter = counter + 1
  local token = tokens[(counter - 1) % #tokens + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = auth,
    ["Idempotency-Key"] = string.format("bench-%s-%d-%09d", run, id, counter),
  }
  return wrk.format("POST", path, headers, string.format(body_format, token))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  figures.report(threads, summary, latency)
end
