-- wrk script: a burst. Every connection sends one request, all at once, and no more: request i of BENCH_SIZE is a
-- gate's release of its own slip (tokens from BENCH_TOKENS, one per line), a kiosk's slip request or a key
-- cabinet's event upload, in turn. A thread stops when each of its requests has its answer. Prints one JSON line.
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local figures = require("figures")
local threads = {}
statuses = {}  -- globals, so that done() can read each thread's
answered = 0
local mine = {}
local reserved = 0  -- requests a connection was cleared to send (`delay`)
local handed = 0  -- requests sent

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function headers(token, n)
  return {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("burst-%s-%09d", os.getenv("BENCH_RUN"), n),
  }
end

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS"))
  local size = tonumber(os.getenv("BENCH_SIZE"))
  local tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    table.insert(tokens, line)
  end
  local release = os.getenv("BENCH_RELEASE_BODY")
  for i = 0, size - 1 do
    if i % n == id then
      local kind = i % 3
      local r
      if kind == 0 then
        r = wrk.format("POST", "/api/v1/gate/releases", headers(os.getenv("BENCH_GATE"), i),
          string.format(release, tokens[math.floor(i / 3) + 1]))
      elseif kind == 1 then
        r = wrk.format("POST", "/api/v1/slips", headers(os.getenv("BENCH_KIOSK"), i), os.getenv("BENCH_SLIP_BODY"))
      else
        r = wrk.format("POST", "/api/v1/cabinet/events", headers(os.getenv("BENCH_CABINET"), i),
          os.getenv("BENCH_EVENT_BODY"))
      end
      table.insert(mine, r)
    end
  end
end

function delay()
  -- wrk asks before every request of a connection: the first ones go at once, one per request of the burst;
  -- every later one waits out the run
  if reserved < #mine then
    reserved = reserved + 1
    return 0
  end
  return 3600000
end

function request()
  -- wrk also calls this once before the run, to check the script's requests: that call takes none of the burst
  if handed >= reserved then
    return mine[1]
  end
  handed = handed + 1
  return mine[handed]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  answered = answered + 1
  if answered >= #mine then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  figures.report(threads, summary, latency)
end
