//! `helpdesk demo seed`: a year of tickets shaped like the centre's 2016 report (SPEC §2),
//! recorded through the same domain code as the API (lifecycle rules, clocks, history,
//! malfunction e-mails), so that a newcomer sees meaningful reports at once.

mod cast;
mod monitoring;

use crate::config::Settings;
use crate::db;
use crate::db::tickets::{EventContext, create_ticket, record_event};
use crate::domain::malfunction::{MalfunctionDetails, MalfunctionPatch};
use crate::domain::ticket::{NewTicket, Requester};
use crate::domain::{Action, Channel, EventCommand, Level, Principal, ReplyChannel, VersionCheck};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SERVICES: &[&str] = &[
    "Portale dei servizi online",
    "PagoPA",
    "Anagrafe online",
    "SUAP",
    "Protocollo informatico",
    "Posta elettronica certificata",
];

/// The final state and level of the 2016 tickets (SPEC §2), out of 4,788.
const MIX: &[(Level, Final, u32)] = &[
    (Level::First, Final::Resolved, 2383),
    (Level::First, Final::NotInScope, 304),
    (Level::Second, Final::Open, 2),
    (Level::Second, Final::NotInScope, 59),
    (Level::Second, Final::New, 1),
    (Level::Second, Final::Resolved, 2039),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Final {
    New,
    Open,
    Resolved,
    NotInScope,
}

/// What the seed made.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub agencies: usize,
    pub tickets: usize,
    pub events: usize,
    pub malfunctions: usize,
    pub outside_office_hours: usize,
    /// The year of monitoring of SLA.1–SLA.5.
    pub monitoring: monitoring::SeededMonitoring,
}

/// Seeds `tickets` tickets (default 4,788) reported in `year` (a past year), reproducibly
/// from `seed`.
/// What to seed: a past `year` with `tickets` tickets from random `seed`; `force` seeds even a
/// database that already holds tickets.
#[derive(Debug, Clone, Copy)]
pub struct SeedRequest {
    pub year: i32,
    pub tickets: usize,
    pub seed: u64,
    pub force: bool,
}

pub fn seed(settings: &Settings, request: SeedRequest) -> anyhow::Result<Seeded> {
    let SeedRequest {
        year,
        tickets,
        seed,
        force,
    } = request;
    anyhow::ensure!(
        year >= 1971 && year < Utc::now().year(),
        "--year must be a past year (the tickets' events must not be in the future)"
    );
    // A pool of its own: the seed writes tens of thousands of small transactions, which need
    // no fsync each (a crash mid-seed leaves whole tickets; run it again on a fresh database).
    let pool = db::connect_pool(&settings.database_url, 2, "normal")?;
    db::run_migrations(&mut *pool.get()?)?;
    // A demo year mixed into real tickets could not be told apart from them afterwards.
    let existing = db::tickets::count_tickets(&mut *pool.get()?)?;
    anyhow::ensure!(
        existing == 0 || force,
        "the database already holds {existing} tickets, and a demo year would mix with them: \
         seed a fresh database, or pass --force to add the demo anyway"
    );
    let engine = crate::calendars::engine_from_database(settings, &mut *pool.get()?, Utc::now())?;
    let mail = crate::mail::MailSettings::from_settings(settings)?;
    // Nobody serves this process's public outputs: its notice changes count for nothing.
    let notice_changes = crate::db::notices::NoticeChanges::default();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seeded = Seeded::default();
    let agencies = cast::agencies(&pool, &mut seeded)?;
    let staff = cast::staff(&pool)?;
    let mut plan: Vec<(Level, Final)> = Vec::with_capacity(tickets);
    for &(level, outcome, count) in MIX {
        let share = (count as usize * tickets).div_ceil(4788);
        plan.extend(std::iter::repeat_n((level, outcome), share));
    }
    plan.truncate(tickets);
    let mut reported: Vec<DateTime<Utc>> = (0..plan.len())
        .map(|_| report_instant(&mut rng, year))
        .collect();
    reported.sort();
    // Shuffle the outcomes over the year.
    for i in (1..plan.len()).rev() {
        let j = rng.random_range(0..=i);
        plan.swap(i, j);
    }
    let mut conn = pool.get()?;
    seeded.monitoring = monitoring::seed_monitoring(&mut conn, &mut rng, year, Utc::now())?;
    for (index, (&(level, outcome), &reported_at)) in plan.iter().zip(&reported).enumerate() {
        let agency = (rng.random_bool(0.9)).then(|| &agencies[rng.random_range(0..agencies.len())]);
        let malfunction = agency.is_some() && outcome == Final::Resolved && rng.random_bool(0.03);
        let channel = if malfunction {
            [Channel::Phone, Channel::Monitoring, Channel::Phone][rng.random_range(0..3)]
        } else {
            [
                Channel::Phone,
                Channel::Email,
                Channel::Email,
                Channel::Portal,
                Channel::Monitoring,
            ][rng.random_range(0..5)]
        };
        if !is_office_hours(reported_at) {
            seeded.outside_office_hours += 1;
        }
        let service = SERVICES[rng.random_range(0..SERVICES.len())];
        let new = NewTicket {
            subject: if malfunction {
                format!("{service} non disponibile")
            } else {
                format!("Richiesta di assistenza: {service}")
            },
            description: format!("Segnalazione dimostrativa n. {}", index + 1),
            channel,
            reported_at: Some(reported_at),
            agency_id: agency.map(|a| a.id),
            requester: Requester {
                name: Some(format!("Utente {}", index + 1)),
                email: None,
                phone: None,
            },
            malfunction,
            details: MalfunctionDetails {
                affected_services: if malfunction {
                    vec![service.to_owned()]
                } else {
                    Vec::new()
                },
                affected_agency_ids: agency
                    .filter(|_| malfunction)
                    .map(|a| vec![a.id])
                    .unwrap_or_default(),
                cause: None,
                actions_taken: None,
            },
        };
        let first = &staff[rng.random_range(0..2)];
        let created = create_ticket(&mut conn, &engine, &new, first, None, reported_at)?;
        seeded.tickets += 1;
        let id = created.ticket.id;
        let mut at = reported_at;
        let record = |conn: &mut db::PooledConnection,
                      actor: &Principal,
                      at: DateTime<Utc>,
                      command: EventCommand| {
            let context = EventContext {
                engine: &engine,
                mail: &mail,
                actor,
                rules: settings.event_rules(),
                now: at,
                notice_changes: &notice_changes,
            };
            record_event(conn, &context, id, &command, &VersionCheck::Any).map(|_| ())
        };
        let event = |action: Action| EventCommand {
            action: Some(action),
            ..EventCommand::default()
        };
        if malfunction {
            seeded.malfunctions += 1;
            let started = reported_at - Duration::minutes(rng.random_range(0..30));
            record(
                &mut conn,
                first,
                at,
                EventCommand {
                    at: Some(started),
                    service: Some(service.to_owned()),
                    ..event(Action::InterruptionStart)
                },
            )?;
        }
        at = next_response(&mut rng, at, 5, 80);
        record(&mut conn, first, at, event(Action::TakeCharge))?;
        if malfunction {
            let lasted = Duration::minutes(rng.random_range(10..240));
            let intervention = at + Duration::minutes(rng.random_range(5..100));
            record(
                &mut conn,
                first,
                intervention,
                event(Action::StartIntervention),
            )?;
            let told = intervention + Duration::minutes(rng.random_range(5..45));
            record(
                &mut conn,
                first,
                told,
                EventCommand {
                    message: Some(format!(
                        "Il servizio {service} è interrotto; stiamo intervenendo."
                    )),
                    ..event(Action::NotifyAgency)
                },
            )?;
            let mut last = told;
            if lasted > Duration::minutes(30) {
                last = intervention + Duration::minutes(rng.random_range(20..90));
                record(
                    &mut conn,
                    first,
                    last.max(told),
                    EventCommand {
                        message: Some(format!(
                            "Il servizio {service} è temporaneamente non disponibile."
                        )),
                        ..event(Action::NotifyUsers)
                    },
                )?;
            }
            let end = (reported_at + lasted).max(last.max(told)) + Duration::minutes(1);
            record(&mut conn, first, end, event(Action::InterruptionEnd))?;
            at = end;
            let patch = MalfunctionPatch {
                cause: Some(Some(
                    [
                        "Saturazione dello spazio disco",
                        "Certificato scaduto",
                        "Guasto di rete del fornitore",
                        "Aggiornamento non riuscito",
                    ][rng.random_range(0..4)]
                    .to_owned(),
                )),
                actions_taken: Some(Some(
                    "Ripristino del servizio e verifica del monitoraggio".to_owned(),
                )),
                ..MalfunctionPatch::default()
            };
            db::tickets::malfunction::update_malfunction(
                &mut conn,
                id,
                &patch,
                first,
                &VersionCheck::Any,
                end,
            )?;
        }
        at = next_response(&mut rng, at, 10, 300);
        if !(level == Level::First && outcome == Final::NotInScope) {
            record(
                &mut conn,
                first,
                at,
                EventCommand {
                    // The demo's requesters have no address: an e-mail reply would be
                    // refused (it is sent now).
                    channel: Some(ReplyChannel::Phone),
                    message: Some("Abbiamo preso in carico la sua segnalazione.".into()),
                    ..event(Action::Reply)
                },
            )?;
        }
        if level == Level::Second {
            at = next_response(&mut rng, at, 5, 60);
            record(
                &mut conn,
                first,
                at,
                EventCommand {
                    reason: Some("Serve l'intervento del secondo livello".into()),
                    ..event(Action::Escalate)
                },
            )?;
            if outcome == Final::New {
                continue;
            }
            let second = &staff[2 + rng.random_range(0..2)];
            at = next_response(&mut rng, at, 10, 240);
            record(&mut conn, second, at, event(Action::TakeCharge))?;
            at = finish(&mut rng, at, outcome, |at, command| {
                record(&mut conn, second, at, command)
            })?;
        } else {
            at = finish(&mut rng, at, outcome, |at, command| {
                record(&mut conn, first, at, command)
            })?;
        }
        let _ = at;
    }
    seeded.events = crate::db::events::count_events(&mut conn)? as usize;
    Ok(seeded)
}

/// The final event of a ticket that is not left open.
fn finish(
    rng: &mut StdRng,
    at: DateTime<Utc>,
    outcome: Final,
    mut record: impl FnMut(DateTime<Utc>, EventCommand) -> Result<(), crate::db::StoreError>,
) -> anyhow::Result<DateTime<Utc>> {
    let at = next_response(rng, at, 30, 2000);
    let command = match outcome {
        Final::Resolved => EventCommand {
            action: Some(Action::Resolve),
            resolution: Some("Problema risolto.".into()),
            ..EventCommand::default()
        },
        Final::NotInScope => EventCommand {
            action: Some(Action::CloseNotInScope),
            reason: Some("La richiesta riguarda un servizio non gestito dal centro.".into()),
            ..EventCommand::default()
        },
        Final::New | Final::Open => return Ok(at),
    };
    record(at, command)?;
    Ok(at)
}

/// `minutes` later, within office hours when the previous step was outside them.
fn next_response(rng: &mut StdRng, at: DateTime<Utc>, min: i64, max: i64) -> DateTime<Utc> {
    let mut next = at + Duration::minutes(rng.random_range(min..=max));
    while !is_office_hours(next) {
        next += Duration::minutes(30);
    }
    next
}

/// 39 % of the reports arrive outside office hours (the 2016 report's share).
fn report_instant(rng: &mut StdRng, year: i32) -> DateTime<Utc> {
    let start = NaiveDate::from_ymd_opt(year, 1, 1).expect("a valid year");
    let days = if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    };
    let outside = rng.random_bool(0.39);
    loop {
        let day = start + Duration::days(rng.random_range(0..days));
        let minute = rng.random_range(0..24 * 60);
        let local = day
            .and_hms_opt(minute / 60, minute % 60, rng.random_range(0..60))
            .expect("a valid time");
        let Some(at) = chrono_tz::Europe::Rome
            .from_local_datetime(&local)
            .earliest()
        else {
            continue;
        };
        let at = at.with_timezone(&Utc);
        if is_office_hours(at) != outside {
            return at;
        }
    }
}

/// Monday to Friday, 08:00-18:00 in Rome (holidays aside: close enough for a demo).
fn is_office_hours(at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&chrono_tz::Europe::Rome);
    !matches!(local.weekday(), Weekday::Sat | Weekday::Sun) && (8..18).contains(&local.hour())
}
