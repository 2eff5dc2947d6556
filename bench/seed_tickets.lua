-- wrk script: opens LIMIT tickets with POST /api/v1/tickets (the body of post_ticket.lua),
-- then stops its thread and creates the file DONE_FILE. wrk itself still waits for its -d
-- to end (4.1.0), so the caller stops it with SIGINT once DONE_FILE is there. Run it with one
-- thread (-t1): LIMIT counts that thread's responses, and the requests still in flight on
-- the other connections add at most connections - 1 tickets.
-- Needs TOKEN, LIMIT and DONE_FILE in the environment. Prints a RESULT line like
-- post_ticket.lua's (its rps counts the idle time before the SIGINT: don't use it).

local token = os.getenv("TOKEN") or error("TOKEN is not set")
local limit = tonumber(os.getenv("LIMIT") or "") or error("LIMIT is not set")
local done_file = os.getenv("DONE_FILE") or error("DONE_FILE is not set")
local channels = { "phone", "email", "portal", "monitoring" }
local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
}
local counter = 0
local responses = 0

function request()
    counter = counter + 1
    local body = string.format(
        '{"subject":"Portale pagamenti non raggiungibile (seed %d)",' ..
        '"description":"Il cittadino segnala un errore 503 alla conferma del pagamento.",' ..
        '"channel":"%s","requester":{"name":"Mario Rossi","email":"mario.rossi@example.org"}}',
        counter, channels[counter % 4 + 1])
    return wrk.format("POST", "/api/v1/tickets", headers, body)
end

function response(status, headers, body)
    responses = responses + 1
    if responses == limit then
        local f = io.open(done_file, "w")
        if f then f:close() end
        wrk.thread:stop()
    end
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
