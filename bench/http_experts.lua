-- wrk script: GET /v1/experts?text=<query>&k=<K> cycling over the lines of
-- $WK_QUERIES (the same file whoknows-load --queries reads), with an optional
-- bearer token $WK_TOKEN. Each wrk thread starts at a different line.
local queries = {}
local k = os.getenv("WK_K") or "10"
local token = os.getenv("WK_TOKEN")
local i = 0

local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  for line in io.lines(os.getenv("WK_QUERIES")) do
    if #line > 0 then queries[#queries + 1] = encode(line) end
  end
  i = math.random(#queries)
end

function request()
  i = i % #queries + 1
  local headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", "/v1/experts?k=" .. k .. "&text=" .. queries[i], headers)
end

function done(summary, latency, requests)
  io.write(string.format("WKJSON {\"requests\":%d,\"errors\":%d,\"non2xx\":%d,\"duration_s\":%.3f," ..
                         "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
end
