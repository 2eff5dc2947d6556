-- wrk script: reads tickets with GET /api/v1/tickets/{id}, ids drawn at random from a
-- file (one UUID per line) of tickets created before. Needs TOKEN in the environment.
-- Usage: wrk ... -s get_ticket.lua URL -- IDS_FILE

local token = os.getenv("TOKEN") or error("TOKEN is not set")
local headers = { ["Authorization"] = "Bearer " .. token }
local ids = {}
local threads = {}

function setup(thread)
    thread:set("seed", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    local path = args[1] or error("pass the ids file after --")
    for line in io.lines(path) do
        if #line > 0 then ids[#ids + 1] = line end
    end
    if #ids == 0 then error("no ids in " .. path) end
    math.randomseed(os.time() * 100 + (seed or 0))
end

function request()
    local id = ids[math.random(#ids)]
    return wrk.format("GET", "/api/v1/tickets/" .. id, headers)
end

function done(summary, latency, requests)
    local secs = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
        "non2xx=%d socket_errors=%d\n",
        summary.requests, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000,
        latency:percentile(99) / 1000, latency.max / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
