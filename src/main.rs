//! The `helpdesk` command: parse the CLI, load settings, start logging, call the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use helpdesk::config::Settings;
use helpdesk::domain::Role;
use helpdesk::http::users::check_new_user;
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
    /// Print the OpenAPI document.
    Openapi,
    /// Print a report, or send a period's malfunction reports.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Demo data.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The SLA compliance table (SLA.6–SLA.11).
    Sla(ReportArgs),
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
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("loading settings")?;
    init_logging(&settings);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            app::open_database(&settings)?;
            eprintln!("migrations are up to date");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    level,
                    agency,
                },
        } => {
            let (name, role, level) = check_new_user(Some(&name), Some(role), level, agency)
                .map_err(|invalid| anyhow::anyhow!("{invalid}"))?;
            let pool = app::open_database(&settings)?;
            let token = app::add_user(&pool, &name, role, level, agency, chrono::Utc::now())?;
            print_ignoring_closed_pipe(&format!("{token}\n"))
        }
        Command::Openapi => print_ignoring_closed_pipe(helpdesk::http::openapi::openapi_json()),
        Command::Report { command } => report(&settings, command),
        Command::Demo {
            command:
                DemoCommand::Seed {
                    year,
                    tickets,
                    seed,
                },
        } => {
            let seeded = helpdesk::demo::seed(&settings, year, tickets, seed)?;
            eprintln!(
                "seeded {} agencies, {} tickets ({} outside office hours, {} malfunctions), {} events in all",
                seeded.agencies,
                seeded.tickets,
                seeded.outside_office_hours,
                seeded.malfunctions,
                seeded.events
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

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    // Bind first: a token printed by a process that then fails to serve would be lost.
    let listener = std::net::TcpListener::bind(&settings.bind)
        .with_context(|| format!("binding {}", settings.bind))?;
    let pool = app::open_database(&settings)?;
    if let Some(token) = app::bootstrap_admin(&pool, chrono::Utc::now())? {
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
