-- wrk script of bench/bench_hotpath.py: one request kind per run, configured by environment variables.
--
--   BENCH_METHOD   GET or POST
--   BENCH_PATH     the path; "{code}" is replaced by the next dossier code of BENCH_CODES
--   BENCH_BODY     the JSON body (POST)
--   BENCH_TOKEN    a bearer token (none when empty)
--   BENCH_CODES    a file of dossier codes, one a line: each is used once (threads take turns); a thread stops
--                  when it has none left
--   BENCH_THREADS  wrk's -t (to share the codes out)
--   BENCH_COUNT    when set, the requests to send in all (threads take turns); a thread stops after its share
--   BENCH_SAVE     a file prefix: each thread writes the "code" of every 2xx response to <prefix><thread>.txt
--   BENCH_OUT      where done() writes the figures as JSON
--
-- The rate is counted from each thread's first request to its last response (LuaJIT's FFI reads the monotonic
-- clock), so a run that uses up its codes before wrk's -d is not diluted by the idle rest.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local function now()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, t) -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) + tonumber(t.tv_nsec) / 1e9
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  path = os.getenv("BENCH_PATH") or "/health"
  body = os.getenv("BENCH_BODY")
  if body == "" then body = nil end
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
  headers = {}
  local token = os.getenv("BENCH_TOKEN") or ""
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if body then headers["Content-Type"] = "application/json" end
  codes = {}
  local file = os.getenv("BENCH_CODES") or ""
  if file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then table.insert(codes, line) end
    end
  end
  uses_codes = string.find(path, "{code}", 1, true) ~= nil
  count = tonumber(os.getenv("BENCH_COUNT") or "")
  sent, done_ok, done_other, first, last, exhausted = 0, 0, 0, 0, 0, 0
  local save = os.getenv("BENCH_SAVE") or ""
  if save ~= "" then saved = io.open(save .. id .. ".txt", "w") end
  key_prefix = string.format("bench-%d-%d-", os.time(), id)
end

function request()
  if first == 0 then first = now() end
  sent = sent + 1
  if count and id + (sent - 1) * nthreads + 1 > count then
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/health") -- never counted: the thread stops
  end
  local p = path
  if uses_codes then
    local i = (id + (sent - 1) * nthreads) % #codes + 1
    if not count and id + (sent - 1) * nthreads + 1 > #codes then
      exhausted = 1
      wrk.thread:stop()
      return wrk.format("GET", "/health") -- never counted: the thread stops
    end
    p = string.gsub(path, "{code}", codes[i])
  end
  if method == "POST" then headers["Idempotency-Key"] = key_prefix .. sent end
  return wrk.format(method, p, headers, body)
end

function response(status, hdrs, resp_body)
  last = now()
  if status >= 200 and status < 300 then
    done_ok = done_ok + 1
    if saved then
      local code = string.match(resp_body, '"code":"([^"]+)"')
      if code then saved:write(code, "\n") end
    end
  else
    done_other = done_other + 1
    if done_other <= 3 then io.stderr:write("status " .. status .. ": " .. string.sub(resp_body, 1, 300) .. "\n") end
  end
  if saved and done_ok % 50 == 0 then saved:flush() end
end

function done(summary, latency, requests)
  local ok, other, t0, t1, out_of_codes = 0, 0, nil, 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("done_ok")
    other = other + thread:get("done_other")
    local f, l = thread:get("first"), thread:get("last")
    if f > 0 and (t0 == nil or f < t0) then t0 = f end
    if l > t1 then t1 = l end
    out_of_codes = out_of_codes + thread:get("exhausted")
  end
  local seconds = (t0 and t1 > t0) and (t1 - t0) or (summary.duration / 1e6)
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"ok": %d, "other": %d, "seconds": %.4f, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "socket_errors": %d, "out_of_codes": %d}',
    ok, other, seconds, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    out_of_codes))
  out:close()
end
