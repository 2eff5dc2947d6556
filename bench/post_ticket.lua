-- wrk script: opens tickets with POST /api/v1/tickets (the SPEC's minimal body plus a
-- requester and a description, so each row has the size of a real phone report).
-- Needs TOKEN in the environment. Prints a RESULT line that bench/load.sh parses.

local token = os.getenv("TOKEN") or error("TOKEN is not set")
local channels = { "phone", "email", "portal", "monitoring" }
local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
}
-- DELAY_MS: each connection waits this long before each request (0: as fast as it can), to
-- hold creation near a rate instead of saturating the machine.
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
    thread:set("thread_id", #threads + 1)
    table.insert(threads, thread)
end

function delay()
    return delay_ms
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"subject":"Portale pagamenti non raggiungibile (bench %d-%d)",' ..
        '"description":"Il cittadino segnala un errore 503 alla conferma del pagamento.",' ..
        '"channel":"%s","requester":{"name":"Mario Rossi","email":"mario.rossi@example.org"}}',
        thread_id, counter, channels[counter % 4 + 1])
    return wrk.format("POST", "/api/v1/tickets", headers, body)
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
