-- wrk script of bench/gateway_http.py (run by it; see bench/GATEWAY.md).
--
--   wrk -t T ... -s bench/gateway_http.lua URL [-- REQUESTS_FILE T once|cycle]
--
-- Without a file, every request is wrk's own (the URL, the -H headers): the hello and the
-- coverage read by one session. With a file, each line "METHOD PATH session_cookie
-- csrf_token" is one request (a POST with the body {}), thread k of T taking lines k, k+T,
-- ...: "once" sends each line once (sign-ups: none repeats, so none is refused as a
-- duplicate), "cycle" starts again at the end (reads by many sessions). done() prints one
-- JSON line for the bench.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}      -- status code -> responses (read back by done())
  error_body = ""    -- the first non-2xx body, to say why
  exhausted = 0      -- requests wanted after the file's last line of this thread
  prepared, sent = nil, 0
  local file = args[1]
  if file == nil or file == "" then
    return
  end
  local count = tonumber(args[2] or "1")  -- wrk's -t (this state has no list of threads)
  cycle = args[3] == "cycle"
  prepared = {}
  local line_no = 0
  for line in io.lines(file) do
    if line_no % count == thread_index then
      local method, path, cookie, csrf = line:match("^(%u+) (%S+) (%S+) (%S+)$")
      local headers = {["Cookie"] = "gonghui_session=" .. cookie .. "; gonghui_csrf=" .. csrf}
      local body = nil
      if method ~= "GET" then
        headers["X-CSRF-Token"] = csrf
        headers["Content-Type"] = "application/json"
        body = "{}"
      end
      prepared[#prepared + 1] = wrk.format(method, path, headers, body)
    end
    line_no = line_no + 1
  end
end

function request()
  if prepared == nil then
    return wrk.request()
  end
  sent = sent + 1
  if sent > #prepared and cycle then
    sent = 1
  elseif sent > #prepared then
    exhausted = exhausted + 1
    wrk.thread:stop()
    return prepared[#prepared]
  end
  return prepared[sent]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and error_body == "" then
    error_body = body
  end
end

function done(summary, latency, requests)
  local codes, body, short = {}, "", 0
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      codes[#codes + 1] = string.format('"%d": %d', code, n)
    end
    if body == "" then
      body = thread:get("error_body") or ""
    end
    short = short + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "non_2xx_3xx": %d, "exhausted": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.timeout,
    e.status, short, table.concat(codes, ", ")))
  if body ~= "" then
    io.write("WRK_ERROR_BODY " .. body:gsub("\n", " "):sub(1, 500) .. "\n")
  end
end
