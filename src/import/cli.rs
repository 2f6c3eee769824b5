//! `import-flask-users <users.db> (--local | --remote) [--database DB] [--persist-to DIR]
//! [--sql-out DIR] [--dry-run]` (`--help` says it all): reviews every row, reports what it skips
//! by row id, writes the SQL in files of a few thousand rows, and loads them with `wrangler d1
//! execute`, with a progress bar on a terminal.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Parser};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::import::review::{review, Account, EmailOwners};
use crate::import::source::{for_each_user, open};
use crate::import::statements::{insert_accounts, ROWS_PER_STATEMENT};

/// Statements per SQL file handed to one `wrangler d1 execute`.
const STATEMENTS_PER_FILE: usize = 50;

/// Copies the Flask API's users into D1, bcrypt hashes as they are (each is replaced by argon2id
/// at its user's first login).
#[derive(Debug, Parser)]
#[command(name = "import-flask-users", version, long_about = None)]
#[command(group(ArgGroup::new("target").required(true).args(["local", "remote"])))]
struct Options {
    /// The Flask API's SQLite database (its `user` table).
    users_db: String,
    /// Into the local D1 that `npm run dev` serves.
    #[arg(long)]
    local: bool,
    /// Into the deployed D1 (after `npx wrangler login`).
    #[arg(long)]
    remote: bool,
    /// The D1 binding or database name.
    #[arg(long, default_value = "DB")]
    database: String,
    /// With --local: the state directory, as for `wrangler dev --persist-to`.
    #[arg(long, value_name = "DIR")]
    persist_to: Option<String>,
    /// Keep the generated SQL in DIR (which must not hold an earlier run's files).
    #[arg(long, value_name = "DIR")]
    sql_out: Option<PathBuf>,
    /// Review the rows and write the SQL; load nothing.
    #[arg(long)]
    dry_run: bool,
}

impl Options {
    fn target(&self) -> &'static str {
        if self.remote {
            "--remote"
        } else {
            "--local"
        }
    }
}

pub fn main() -> ExitCode {
    // clap answers --help and --version, and a usage error with exit code 2.
    let options = Options::parse();
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("import failed: {problem}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let db = open(&options.users_db).map_err(|e| format!("open {}: {e}", options.users_db))?;
    let mut owners = EmailOwners::default();
    for_each_user(&db, |user| {
        owners.record(&user);
        Ok(())
    })?;

    let out_dir = match &options.sql_out {
        Some(dir) => {
            fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
            dir.clone()
        }
        None => private_temp_dir()?,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut writer = SqlFiles::new(&out_dir, now);
    let (mut read, mut skipped) = (0usize, 0usize);
    for_each_user(&db, |user| {
        read += 1;
        let reviewed = review(&user, &owners);
        if let Some(note) = &reviewed.note {
            println!("row id={}: {note}", user.id);
        }
        match reviewed.outcome {
            Ok(account) => writer.push(account),
            Err(skip) => {
                skipped += 1;
                println!("row id={}: skipped: {skip}", user.id);
                Ok(())
            }
        }
    })?;
    let files = writer.finish()?;
    let ready = read - skipped;
    println!(
        "read {read} rows: {ready} to import, {skipped} skipped; SQL in {}",
        out_dir.display()
    );
    if options.dry_run {
        return Ok(());
    }

    let wrangler = Wrangler::new(options)?;
    let before = wrangler.count_users()?;
    let progress = loading_bar(ready as u64);
    let per_file = STATEMENTS_PER_FILE * ROWS_PER_STATEMENT;
    for (i, file) in files.iter().enumerate() {
        wrangler.execute_file(file)?;
        progress.inc(per_file.min(ready - i * per_file) as u64);
    }
    progress.finish_and_clear();
    let added = wrangler.count_users()? - before;
    println!(
        "D1 ({}) has {added} new users; {} of the {ready} were there already; {:.1} s",
        options.target().trim_start_matches("--"),
        ready as i64 - added,
        started.elapsed().as_secs_f64()
    );
    if options.sql_out.is_none() {
        let _ = fs::remove_dir_all(&out_dir);
    }
    Ok(())
}

/// Rows loaded, their rate and the time left, on standard error; drawn only when it is a terminal
/// (indicatif hides itself otherwise), so logs and CI see only the summary lines.
fn loading_bar(rows: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(rows), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("loading {bar:30} {pos}/{len} rows, {per_sec}, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}

/// A new directory under the system's temporary directory that only this user can enter (mode
/// 0700), never one that existed before: the SQL holds every password hash, and a predictable
/// shared path could be read, or planted with a link, by another user (CWE-377).
fn private_temp_dir() -> Result<PathBuf, String> {
    let suffix: String = crate::core::random::bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = std::env::temp_dir().join(format!("edge-auth-import-{suffix}"));
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&dir)
        .map_err(|e| format!("create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// SQL files of at most `STATEMENTS_PER_FILE` inserts of `ROWS_PER_STATEMENT` rows, written as
/// rows arrive, so memory holds one statement's rows at a time.
struct SqlFiles<'a> {
    dir: &'a Path,
    now: i64,
    pending: Vec<Account>,
    current: Option<(BufWriter<File>, usize)>,
    files: Vec<PathBuf>,
}

impl<'a> SqlFiles<'a> {
    fn new(dir: &'a Path, now: i64) -> Self {
        Self {
            dir,
            now,
            pending: Vec::new(),
            current: None,
            files: Vec::new(),
        }
    }

    fn push(&mut self, account: Account) -> Result<(), String> {
        self.pending.push(account);
        if self.pending.len() == ROWS_PER_STATEMENT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let sql = insert_accounts(&self.pending, self.now);
        self.pending.clear();
        self.write(&sql)
    }

    fn write(&mut self, sql: &str) -> Result<(), String> {
        if self
            .current
            .as_ref()
            .is_none_or(|(_, count)| *count == STATEMENTS_PER_FILE)
        {
            self.close_current()?;
            let path = self
                .dir
                .join(format!("users-{:05}.sql", self.files.len() + 1));
            let file = File::options()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| format!("create {}: {e}", path.display()))?;
            self.files.push(path);
            self.current = Some((BufWriter::new(file), 0));
        }
        let (writer, count) = self.current.as_mut().expect("opened above");
        writer
            .write_all(sql.as_bytes())
            .map_err(|e| format!("write SQL: {e}"))?;
        *count += 1;
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), String> {
        if let Some((mut writer, _)) = self.current.take() {
            writer.flush().map_err(|e| format!("write SQL: {e}"))?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<PathBuf>, String> {
        self.flush()?;
        self.close_current()?;
        Ok(self.files)
    }
}

/// The project's wrangler, run with the project's Node 22 first on the PATH.
struct Wrangler<'a> {
    bin: PathBuf,
    path: String,
    options: &'a Options,
}

impl<'a> Wrangler<'a> {
    fn new(options: &'a Options) -> Result<Self, String> {
        let bin_dir = std::env::current_dir()
            .map_err(|e| format!("current directory: {e}"))?
            .join("node_modules/.bin");
        let bin = bin_dir.join("wrangler");
        if !bin.exists() {
            return Err("node_modules/.bin/wrangler is missing: run this from the project root after `bash scripts/setup.sh`".to_owned());
        }
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Ok(Self { bin, path, options })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args([
                "d1",
                "execute",
                &self.options.database,
                self.options.target(),
            ])
            .args(args)
            .env("PATH", &self.path)
            .env("CI", "true")
            .env("WRANGLER_SEND_METRICS", "false");
        if let Some(dir) = &self.options.persist_to {
            command.args(["--persist-to", dir]);
        }
        command
    }

    fn run(&self, args: &[&str], what: &str) -> Result<String, String> {
        let output = self
            .command(args)
            .output()
            .map_err(|e| format!("{what}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{what}: wrangler exited with {}:\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn execute_file(&self, file: &Path) -> Result<(), String> {
        let file = file.to_string_lossy();
        self.run(&["--file", &file], &format!("load {file}"))
            .map(|_| ())
    }

    fn count_users(&self) -> Result<i64, String> {
        let out = self.run(
            &["--json", "--command", "SELECT COUNT(*) AS n FROM users"],
            "count users",
        )?;
        let json: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| format!("count users: {e}: {out}"))?;
        json[0]["results"][0]["n"]
            .as_i64()
            .ok_or_else(|| format!("count users: unexpected answer {out}"))
    }
}
