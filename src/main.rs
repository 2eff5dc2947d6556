//! The `helpdesk` command: parse the CLI, load settings, start logging, call the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use helpdesk::commands::users::UserToAdd;
use helpdesk::config::Settings;
use helpdesk::domain::Role;
use helpdesk::{app, commands};
use std::path::PathBuf;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "helpdesk", version, about = "Helpdesk tickets with SLA clocks")]
struct Cli {
    /// TOML settings file (default: ./helpdesk.toml if it exists).
    #[arg(long, global = true, env = "HELPDESK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default). Applies migrations first; on a database without
    /// users, creates an admin and prints its token once.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Print a report, or send a period's malfunction reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Monitoring history.
    Monitoring {
        #[command(subcommand)]
        command: MonitoringCommand,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Post one message from standard input to the service's mail gateway (for a mail
    /// server's pipe): exit 0 when taken, 75 (EX_TEMPFAIL) when the service cannot take it
    /// now (the mail server tries again), 69 when it never will (too large).
    Mailgate {
        /// The helpdesk service.
        #[arg(
            long,
            env = "HELPDESK_MAILGATE_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        url: String,
        /// A token of a `mailgate` user (`helpdesk user add --role mailgate`).
        #[arg(long, env = "HELPDESK_MAILGATE_TOKEN", hide_env_values = true)]
        token: String,
        /// Seconds to wait for the service.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// The helpdesk's address the message was delivered to (Postfix: `${recipient}`);
        /// replies to the ticket it opens name it as `Reply-To`.
        #[arg(long)]
        recipient: Option<String>,
    },
}

#[derive(Subcommand)]
enum MonitoringCommand {
    /// Import Nagios/Icinga archive logs as the monitor's history (opens no tickets).
    Import {
        /// Log files, read in the order given (oldest first).
        #[arg(long = "nagios-log", required = true, num_args = 1..)]
        nagios_log: Vec<PathBuf>,
        /// `host=SYSTEM` or `host;service=SYSTEM`; repeatable. Unmapped lines are skipped.
        #[arg(long = "map", required = true)]
        map: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The SLA compliance table (SLA.1–SLA.11).
    Sla(ReportArgs),
    /// Each monitored system's uptime and outages (SLA.1–SLA.5's history).
    Availability(ReportArgs),
    /// The malfunction report (interruptions, SLA.9/SLA.10).
    Malfunctions(ReportArgs),
    /// Tickets by state at level 1 and level 2.
    StatusByLevel(ReportArgs),
    /// Send a period's malfunction reports by e-mail (through the outbox), once per agency.
    Send {
        /// 2016-Q4, 2016-H2, 2016-11 or 2016.
        #[arg(long)]
        period: String,
        /// Only these agencies (id or code); repeatable. Default: every agency.
        #[arg(long)]
        agency: Vec<String>,
        /// Send again to agencies that already had this period's report.
        #[arg(long)]
        resend: bool,
    },
}

#[derive(clap::Args)]
struct ReportArgs {
    /// Start (inclusive): an RFC 3339 instant or a date (local midnight in Rome).
    #[arg(long, value_parser = parse_instant)]
    from: Option<chrono::DateTime<chrono::Utc>>,
    /// End (exclusive), same forms.
    #[arg(long, value_parser = parse_instant)]
    to: Option<chrono::DateTime<chrono::Utc>>,
    /// One agency (id or code).
    #[arg(long)]
    agency: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: commands::Format,
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Create agencies and a year of tickets shaped like the centre's 2016 report.
    Seed {
        /// A past year.
        #[arg(long, default_value_t = 2016)]
        year: i32,
        /// How many tickets.
        #[arg(long, default_value_t = 4788)]
        tickets: usize,
        /// Seed of the random choices (the same seed gives the same data).
        #[arg(long, default_value_t = 2016)]
        seed: u64,
        /// Seed even a database that already holds tickets (the demo mixes with them).
        #[arg(long)]
        force: bool,
    },
}

fn parse_instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    commands::parse_instant_or_date(text).map_err(|e| format!("`{text}` {e}"))
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print its token alone on standard output.
    Add {
        #[arg(long)]
        name: String,
        /// admin, supervisor, agent or agency.
        #[arg(long)]
        role: Role,
        /// 1 or 2, for agents.
        #[arg(long)]
        level: Option<i32>,
        /// The agency's id, for agency users.
        #[arg(long)]
        agency: Option<uuid::Uuid>,
        /// The identity an OpenID Connect provider names this person by.
        #[arg(long)]
        oidc_subject: Option<String>,
    },
    /// List every user (tab-separated: id, role, level, agency, active, name).
    List,
    /// Deactivate a user: its tokens stop working (on running instances within
    /// token_cache_seconds); its history stays.
    Deactivate { id: uuid::Uuid },
    /// Activate a deactivated user again.
    Activate { id: uuid::Uuid },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token to a user and print it alone on standard output (shown once).
    Create {
        /// The user's id.
        #[arg(long)]
        user: uuid::Uuid,
        /// Days until it expires (at most `token_max_days`; default: that cap, or never).
        #[arg(long)]
        expires: Option<u32>,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a token by its id (as `GET /users/{id}/tokens` lists it).
    Revoke { id: uuid::Uuid },
}

fn import_nagios(settings: &Settings, files: Vec<PathBuf>, map: Vec<String>) -> anyhow::Result<()> {
    let mapping = map
        .iter()
        .map(|text| {
            helpdesk::monitoring::nagios_log::parse_mapping(text).ok_or_else(|| {
                anyhow::anyhow!("--map `{text}`: write host=SYSTEM or host;service=SYSTEM")
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let readers = files
        .iter()
        .map(|path| {
            std::fs::File::open(path)
                .map(|file| Box::new(std::io::BufReader::new(file)) as Box<dyn std::io::BufRead>)
                .with_context(|| format!("opening {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let pool = app::open_database(settings)?;
    let mut conn = pool.get()?;
    let summary = helpdesk::monitoring::nagios_import::import_nagios_logs(
        &mut conn,
        readers,
        mapping,
        chrono::Utc::now(),
    )?;
    eprintln!(
        "read {} lines: {} states ({} new), {} downtimes new; skipped {} unmapped, {} other, {} malformed; {} downtimes still open",
        summary.lines,
        summary.states_read,
        summary.states_stored,
        summary.downtimes_stored,
        summary.unmapped,
        summary.skipped,
        summary.malformed,
        summary.downtimes_left_open
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Before the settings: the gateway runs on the mail server, where a missing or broken
    // settings file must not bounce mail.
    if let Some(Command::Mailgate {
        url,
        token,
        timeout,
        recipient,
    }) = &cli.command
    {
        mailgate(url, token, recipient.as_deref(), *timeout);
    }
    let settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    app::check_settings(&settings).context("checking settings")?;
    init_logging(&settings);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            app::open_database(&settings)?;
            eprintln!("migrations are up to date");
            Ok(())
        }
        Command::User { command } => user(&settings, command),
        Command::Token { command } => token(&settings, command),
        Command::Openapi => print_ignoring_closed_pipe(helpdesk::http::openapi::openapi_json()),
        Command::Report { command } => report(&settings, command),
        Command::Mailgate { .. } => unreachable!("handled before the settings"),
        Command::Monitoring {
            command: MonitoringCommand::Import { nagios_log, map },
        } => import_nagios(&settings, nagios_log, map),
        Command::Demo {
            command:
                DemoCommand::Seed {
                    year,
                    tickets,
                    seed,
                    force,
                },
        } => {
            let request = helpdesk::demo::SeedRequest {
                year,
                tickets,
                seed,
                force,
            };
            let seeded = helpdesk::demo::seed(&settings, request)?;
            eprintln!(
                "seeded {} agencies, {} tickets ({} outside office hours, {} malfunctions), {} events in all; {} monitored systems with {} outages and {} check results",
                seeded.agencies,
                seeded.tickets,
                seeded.outside_office_hours,
                seeded.malfunctions,
                seeded.events,
                seeded.monitoring.systems,
                seeded.monitoring.outages,
                seeded.monitoring.check_results
            );
            Ok(())
        }
    }
}

fn report(settings: &Settings, command: ReportCommand) -> anyhow::Result<()> {
    let pool = app::open_database(settings)?;
    let now = chrono::Utc::now();
    let (kind, args) = match command {
        ReportCommand::Send {
            period,
            agency,
            resend,
        } => {
            let agencies = agency
                .iter()
                .map(|key| commands::find_agency(&pool, key))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let lines = commands::send(settings, &pool, &period, &agencies, resend, now)?;
            return print_ignoring_closed_pipe(&lines);
        }
        ReportCommand::Sla(args) => (commands::ReportKind::Sla, args),
        ReportCommand::Availability(args) => (commands::ReportKind::Availability, args),
        ReportCommand::Malfunctions(args) => (commands::ReportKind::Malfunctions, args),
        ReportCommand::StatusByLevel(args) => (commands::ReportKind::StatusByLevel, args),
    };
    let agency = args
        .agency
        .as_deref()
        .map(|key| commands::find_agency(&pool, key))
        .transpose()?;
    let request = commands::ReportRequest {
        kind,
        from: args.from.unwrap_or(
            chrono::DateTime::<chrono::Utc>::from_timestamp(-62_135_596_800, 0)
                .expect("0001-01-01"),
        ),
        to: args.to.unwrap_or(
            chrono::DateTime::<chrono::Utc>::from_timestamp(253_402_300_799, 0)
                .expect("9999-12-31"),
        ),
        agency: agency.as_ref(),
        format: args.format,
    };
    print_ignoring_closed_pipe(&commands::report(settings, &pool, request, now)?)
}

fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let pool = app::open_database(settings)?;
    let now = chrono::Utc::now();
    match command {
        UserCommand::Add {
            name,
            role,
            level,
            agency,
            oidc_subject,
        } => {
            let user = UserToAdd {
                name,
                role,
                level,
                agency_id: agency,
                oidc_subject,
            };
            let token = commands::users::add_user(settings, &pool, user, now)?;
            print_ignoring_closed_pipe(&format!("{token}\n"))
        }
        UserCommand::List => print_ignoring_closed_pipe(&commands::users::list_users(&pool)?),
        UserCommand::Deactivate { id } => {
            commands::users::set_active(&pool, id, false, now)?;
            eprintln!("user {id} deactivated");
            Ok(())
        }
        UserCommand::Activate { id } => {
            commands::users::set_active(&pool, id, true, now)?;
            eprintln!("user {id} activated");
            Ok(())
        }
    }
}

fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let pool = app::open_database(settings)?;
    let now = chrono::Utc::now();
    match command {
        TokenCommand::Create {
            user,
            expires,
            name,
        } => {
            let token = commands::users::create_token(settings, &pool, user, &name, expires, now)?;
            print_ignoring_closed_pipe(&format!("{token}\n"))
        }
        TokenCommand::Revoke { id } => {
            commands::users::revoke_token(&pool, id, now)?;
            eprintln!("token {id} revoked");
            Ok(())
        }
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Bind first: a token printed by a process that then fails to serve would be lost.
    let listener = std::net::TcpListener::bind(&settings.bind)
        .with_context(|| format!("binding {}", settings.bind))?;
    let pool = app::open_database(&settings)?;
    if let Some(token) = app::bootstrap_admin(&settings, &pool, chrono::Utc::now())? {
        tracing::warn!("no users yet: created user `admin`; its token is printed once on stdout");
        println!("{token}");
    }
    tracing::info!(address = %settings.bind, "helpdesk listening");
    app::start(settings, pool, app::system_clock(), listener)?.await?;
    tracing::info!("helpdesk stopped");
    Ok(())
}

/// Writes to stdout; a reader that went away (`helpdesk openapi | head`) is not an error.
fn print_ignoring_closed_pipe(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_from_env("HELPDESK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    // One line per request when its span closes: method, route, status, request id, timing.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        // Colours only for a person at a terminal: a log file gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if settings.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Reads one message on standard input and posts it; exits with the mail server's status.
fn mailgate(url: &str, token: &str, recipient: Option<&str>, timeout: u64) -> ! {
    use helpdesk::commands::mailgate::{EX_TEMPFAIL, Gateway, post_mail};
    use std::io::Read;
    let mut raw = Vec::new();
    let gateway = Gateway {
        base: url,
        token,
        recipient,
        timeout: std::time::Duration::from_secs(timeout),
    };
    let (status, said) = match std::io::stdin().read_to_end(&mut raw) {
        Ok(_) => post_mail(&gateway, &raw),
        Err(e) => (EX_TEMPFAIL, format!("cannot read the message: {e}")),
    };
    eprintln!("helpdesk mailgate: {said}");
    std::process::exit(i32::from(status))
}
