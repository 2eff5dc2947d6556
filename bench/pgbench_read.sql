-- pgbench: the bare reads of GET /tickets/{id}, the ticket row and its clocks, of a ticket
-- drawn at random from bench_ids (n, id), which bench/load.sh fills with the ids wrk reads.
\set i random(1, :ids)
SELECT * FROM tickets WHERE id = (SELECT id FROM bench_ids WHERE n = :i);
SELECT * FROM ticket_clocks WHERE ticket_id = (SELECT id FROM bench_ids WHERE n = :i);
