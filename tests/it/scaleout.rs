//! The scale-out examples users copy: the Kestra flow (`scripts/kestra/offload.yml`) and the GNU
//! parallel script (`scripts/parallel-offload.sh`). The flow is YAML of the expected shape; every
//! `warp-offload` command in either is accepted by the binary and takes no secret as an argument;
//! run the way Kestra's process runner and GNU parallel would run them, against fake-warp10, they
//! offload and purge the range. `scripts/demo.sh` runs end to end at a small scale.

use crate::support;

use regex::Regex;
use serde_json::json;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{READ_TOKEN, TestDir, WRITE_TOKEN, bin, small_fake, stderr, stdout};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SELECTOR: &str = "~os.*{}";
const START: &str = "2024-01-15T00:00:00Z";
const END: &str = "2024-01-16T00:00:00Z";
/// [START, END) in µs, inclusive end.
const RANGE: (i64, i64) = (1_705_276_800_000_000, 1_705_363_199_999_999);
const SEGMENT_ID: &str = "20240115T000000Z-1d-0123456789ab";
/// Environment variables holding secrets, and values for them that must never show up in argv.
const SECRETS: [(&str, &str); 4] = [
    ("WARP10_READ_TOKEN", READ_TOKEN),
    ("WARP10_WRITE_TOKEN", WRITE_TOKEN),
    ("AWS_ACCESS_KEY_ID", "canary-access-key"),
    ("AWS_SECRET_ACCESS_KEY", "canary-secret-key"),
];

fn flow() -> Value {
    let path = format!("{ROOT}/scripts/kestra/offload.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"))
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str().unwrap_or_else(|| panic!("{what} is not a string: {v:?}"))
}

fn task<'a>(tasks: &'a Value, id: &str) -> &'a Value {
    tasks
        .as_sequence()
        .expect("a list of tasks")
        .iter()
        .find(|t| t["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no task {id}"))
}

/// The values templates stand for: `expr` of `{{ expr }}` → value. An expression the test does
/// not know fails it, so a new template in the flow gets a value here.
type Context = BTreeMap<String, String>;

fn context(inputs: &[(&str, &str)], plan: Option<&serde_json::Value>, value: &str) -> Context {
    let mut c: Context = inputs
        .iter()
        .map(|(k, v)| (format!("inputs.{k}"), v.to_string()))
        .collect();
    let (ids, start, end) = match plan {
        Some(p) => (p["ids"].to_string(), str_of_json(&p["start"]), str_of_json(&p["end"])),
        None => (json!([SEGMENT_ID]).to_string(), START.to_string(), END.to_string()),
    };
    c.insert("outputs.plan.vars.ids | toJson".into(), ids);
    c.insert("outputs.plan.vars.start".into(), start);
    c.insert("outputs.plan.vars.end".into(), end);
    c.insert("taskrun.value".into(), value.into());
    for (name, secret) in SECRETS {
        c.insert(format!("secret('{name}')"), secret.into());
    }
    c
}

fn str_of_json(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}")).to_string()
}

/// The flow's inputs with their defaults.
fn default_inputs(flow: &Value) -> Vec<(String, String)> {
    flow["inputs"]
        .as_sequence()
        .expect("inputs")
        .iter()
        .map(|i| {
            (
                str_of(&i["id"], "input id").to_string(),
                str_of(&i["defaults"], "input default").to_string(),
            )
        })
        .collect()
}

fn render(text: &str, ctx: &Context) -> String {
    Regex::new(r"\{\{\s*(.*?)\s*\}\}")
        .unwrap()
        .replace_all(text, |c: &regex::Captures| {
            ctx.get(&c[1])
                .unwrap_or_else(|| panic!("the test has no value for the template {{{{ {} }}}}", &c[1]))
                .clone()
        })
        .into_owned()
}

/// A Commands task's environment, rendered.
fn task_env(task: &Value, ctx: &Context) -> BTreeMap<String, String> {
    task["env"]
        .as_mapping()
        .expect("env")
        .iter()
        .map(|(k, v)| (str_of(k, "env name").to_string(), render(str_of(v, "env value"), ctx)))
        .collect()
}

fn commands(task: &Value) -> Vec<&str> {
    task["commands"]
        .as_sequence()
        .expect("commands")
        .iter()
        .map(|c| str_of(c, "command"))
        .collect()
}

fn assert_no_secret_argument(args: &[String]) {
    for a in args {
        let lower = a.to_lowercase();
        let secret_flag = lower.contains("secret") || (lower.contains("token") && !lower.ends_with("-token-file"));
        assert!(
            !secret_flag,
            "a secret-looking argument {a} in warp-offload {}",
            args.join(" ")
        );
        assert!(
            SECRETS.iter().all(|(_, s)| !a.contains(s)),
            "a secret value in the arguments of warp-offload {}",
            args.join(" ")
        );
    }
}

/// Every Commands task of the flow, the ForEach's child included.
fn command_tasks(flow: &Value) -> Vec<&Value> {
    let tasks = &flow["tasks"];
    vec![task(tasks, "plan"), task(&task(tasks, "segments")["tasks"], "offload")]
}

#[test]
fn flow_plans_then_offloads_each_segment_in_parallel_with_retries_and_a_slack_alert() {
    let f = flow();
    for input in ["warp10_url", "selector", "start", "end", "segment_length", "dest"] {
        assert!(default_inputs(&f).iter().any(|(id, _)| id == input), "no input {input}");
    }
    let plan = task(&f["tasks"], "plan");
    assert_eq!(plan["type"].as_str(), Some("io.kestra.plugin.scripts.shell.Commands"));
    assert_eq!(
        plan["taskRunner"]["type"].as_str(),
        Some("io.kestra.plugin.core.runner.Process")
    );
    assert!(commands(plan).iter().any(|c| c.starts_with("warp-offload plan ")));

    let segments = task(&f["tasks"], "segments");
    assert_eq!(segments["type"].as_str(), Some("io.kestra.plugin.core.flow.ForEach"));
    assert!(str_of(&segments["values"], "values").contains("outputs.plan.vars.ids"));
    assert!(
        segments["concurrencyLimit"].as_u64().is_some_and(|n| n > 1),
        "segments run in parallel"
    );
    let offload = task(&segments["tasks"], "offload");
    assert_eq!(
        offload["type"].as_str(),
        Some("io.kestra.plugin.scripts.shell.Commands")
    );
    assert_eq!(
        offload["taskRunner"]["type"].as_str(),
        Some("io.kestra.plugin.core.runner.Process")
    );
    assert_eq!(offload["retry"]["type"].as_str(), Some("exponential"));
    assert!(offload["retry"]["maxAttempts"].as_u64().is_some_and(|n| n >= 2));
    let env = task_env(offload, &default_context(&f, SEGMENT_ID));
    assert_eq!(env["SEGMENT_ID"], SEGMENT_ID);
    let runs: Vec<Vec<String>> = commands(offload)
        .iter()
        .flat_map(|c| support::warp_offload_args(c, |v| env.get(v).cloned()))
        .collect();
    let has = |args: &[String], w: &str| args.iter().any(|a| a == w);
    assert!(
        runs.iter()
            .any(|a| has(a, "all") && has(a, "--purge") && a.windows(2).any(|w| w == ["--segment", SEGMENT_ID])),
        "the segment task runs `all --segment ID --purge`: {runs:?}"
    );

    let slack = f["errors"]
        .as_sequence()
        .expect("an errors branch")
        .iter()
        .find(|t| t["type"].as_str() == Some("io.kestra.plugin.notifications.slack.SlackIncomingWebhook"))
        .expect("a Slack alert in errors");
    assert_eq!(slack["url"].as_str(), Some("{{ secret('SLACK_WEBHOOK') }}"));
    let mut ctx = default_context(&f, "");
    for (k, v) in [
        ("flow.namespace", "company.monitoring"),
        ("flow.id", "warp10_offload"),
        ("execution.id", "4xYzExecutionId"),
        ("outputs.plan.vars.start ?? inputs.start", START),
        ("outputs.plan.vars.end ?? inputs.end", END),
    ] {
        ctx.insert(k.into(), v.into());
    }
    let payload: serde_json::Value = serde_json::from_str(&render(str_of(&slack["payload"], "payload"), &ctx))
        .expect("the Slack payload is JSON once rendered");
    assert!(str_of_json(&payload["text"]).contains("4xYzExecutionId"));
}

/// The context of a task run with the flow's default inputs and a plan of one segment.
fn default_context(flow: &Value, value: &str) -> Context {
    let inputs = default_inputs(flow);
    let inputs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    context(&inputs, None, value)
}

#[test]
fn every_flow_command_is_accepted_and_takes_no_secret_argument() {
    let f = flow();
    let ctx = default_context(&f, SEGMENT_ID);
    let mut n = 0;
    for t in command_tasks(&f) {
        let env = task_env(t, &ctx);
        for c in commands(t) {
            for secret in ["secret(", "TOKEN", "AWS_SECRET", "AWS_ACCESS"] {
                assert!(
                    !c.contains(secret),
                    "`{secret}` in a command of task {:?}: {c}",
                    t["id"]
                );
            }
            for args in support::warp_offload_args(&render(c, &ctx), |v| env.get(v).cloned()) {
                support::assert_accepted(&args);
                assert_no_secret_argument(&args);
                n += 1;
            }
        }
    }
    assert_eq!(n, 2, "one plan and one all command");
    // Secrets appear only as environment variables of tasks, and as the Slack webhook URL.
    let mut places = Vec::new();
    secret_places(&f, "", &mut places);
    assert!(!places.is_empty());
    for p in places {
        assert!(
            (p.starts_with(".errors") && p.ends_with(".url")) || p.contains(".env."),
            "a secret used outside env: at {p}"
        );
    }
}

/// Paths (`.tasks[0].env.NAME`) of every string that calls `secret(...)`.
fn secret_places(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("secret(") => out.push(path.to_string()),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                secret_places(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Mapping(m) => {
            for (k, item) in m {
                secret_places(item, &format!("{path}.{}", k.as_str().unwrap_or("?")), out);
            }
        }
        _ => {}
    }
}

/// PATH with the binary under test first.
fn path_with_bin() -> String {
    format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `script` with `sh -c` in `dir` with exactly `env` (plus PATH).
fn sh(script: &str, dir: &Path, env: &BTreeMap<String, String>) -> Output {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_with_bin())
        .envs(env)
        .output()
        .expect("run sh")
}

fn assert_purged(record: &serde_json::Value) {
    assert!(record.get("error").is_none(), "segment failed: {record}");
    assert_eq!(record["purge"]["state"], "purged", "{record}");
}

#[test]
fn flow_tasks_run_as_kestra_runs_them_offload_and_purge_the_range() {
    let fake = small_fake(10);
    let t = TestDir::new();
    let dest = t.path("dest");
    let f = flow();
    let inputs = [
        ("warp10_url", fake.url.as_str()),
        ("selector", SELECTOR),
        ("start", START),
        ("end", END),
        ("segment_length", "12h"),
        ("dest", dest.to_str().unwrap()),
        ("s3_endpoint", ""),
    ];
    // Kestra's process runner: the task's rendered commands, one shell script that stops at the
    // first failure (failFast), in a fresh working directory, with the task's env.
    let run_task = |task: &Value, ctx: &Context, dir: PathBuf| {
        let mut env = task_env(task, ctx);
        if env.contains_key("WARP_OFFLOAD_WORK_DIR") {
            env.insert("WARP_OFFLOAD_WORK_DIR".into(), t.path("work").display().to_string());
        }
        let script: Vec<String> = commands(task).iter().map(|c| render(c, ctx)).collect();
        let o = sh(&format!("set -e\n{}", script.join("\n")), &dir, &env);
        assert!(o.status.success(), "task {:?} failed:\n{}", task["id"], stderr(&o));
        (o, dir)
    };

    let ctx = context(&inputs, None, "");
    let (o, _) = run_task(task(&f["tasks"], "plan"), &ctx, t.path("plan"));
    let out = stdout(&o);
    let vars: serde_json::Value = out
        .lines()
        .find_map(|l| l.strip_prefix("::").and_then(|l| l.strip_suffix("::")))
        .map(|j| serde_json::from_str(j).expect("outputs line is JSON"))
        .unwrap_or_else(|| panic!("no ::{{\"outputs\":...}}:: line in\n{out}"));
    let vars = &vars["outputs"];
    assert_eq!((vars["start"].as_str(), vars["end"].as_str()), (Some(START), Some(END)));

    let segments = task(&f["tasks"], "segments");
    let ctx = context(&inputs, Some(vars), "");
    let ids: Vec<String> = serde_json::from_str(&render(str_of(&segments["values"], "values"), &ctx)).unwrap();
    assert_eq!(ids.len(), 2, "two 12 h segments: {ids:?}");
    let offload = task(&segments["tasks"], "offload");
    std::thread::scope(|s| {
        let runs: Vec<_> = ids
            .iter()
            .map(|id| {
                let ctx = context(&inputs, Some(vars), id);
                let (run_task, dir) = (&run_task, t.path(&format!("task-{id}")));
                s.spawn(move || run_task(offload, &ctx, dir))
            })
            .collect();
        for r in runs {
            let (_, dir) = r.join().unwrap();
            let text = std::fs::read_to_string(dir.join("record.ndjson")).expect("record.ndjson");
            let records: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(records.len(), 1, "{text}");
            assert_purged(&records[0]);
        }
    });
    assert_eq!(fake.count(SELECTOR, RANGE.0, RANGE.1).1, 0, "points left in the range");
}

/// `parallel-offload.sh --dry-run` over the small range: its output, and the per-segment command.
struct DryRun {
    output: String,
    plan: Vec<String>,
    remote: String,
    forwarded: Vec<String>,
    ids: Vec<String>,
}

fn parallel_dry_run(url: &str, hosts: &str, remote_env: &Path, dest: &Path) -> DryRun {
    let mut c = Command::new(format!("{ROOT}/scripts/parallel-offload.sh"));
    c.env("PATH", path_with_bin())
        .envs(SECRETS)
        .env("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
        .args([
            "--dry-run",
            "--hosts",
            hosts,
            "--warp10-url",
            url,
            "--selector",
            SELECTOR,
        ])
        .args(["--start", START, "--end", END, "--segment-length", "12h", "--dest"])
        .arg(dest)
        .arg("--remote-env")
        .arg(remote_env)
        .args(["--", "--purge", "--lock-settle-ms", "100"]);
    let o = c.output().expect("run parallel-offload.sh");
    assert!(o.status.success(), "parallel-offload.sh --dry-run: {}", stderr(&o));
    let output = stdout(&o);
    let split = |l: &str| shlex::split(l).unwrap_or_else(|| panic!("not shell words: {l}"));
    let lines: Vec<&str> = output.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 2, "a plan and a parallel command:\n{output}");
    let plan = split(lines[0]);
    let par = split(lines[1]);
    assert_eq!(
        (plan[0].as_str(), par[0].as_str()),
        ("warp-offload", "parallel"),
        "{output}"
    );
    let forwarded = par
        .windows(2)
        .filter(|w| w[0] == "--env")
        .map(|w| w[1].clone())
        .collect();
    DryRun {
        plan: plan[1..].to_vec(),
        remote: par.last().unwrap().clone(),
        forwarded,
        ids: output
            .lines()
            .filter_map(|l| l.strip_prefix("# segment "))
            .map(String::from)
            .collect(),
        output,
    }
}

#[test]
fn parallel_script_help_and_sourcing_run_nothing() {
    let o = Command::new(format!("{ROOT}/scripts/parallel-offload.sh"))
        .arg("--help")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run the script");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("--dry-run"));
    // Sourced, it defines its functions and returns, whatever the arguments.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            ". {ROOT}/scripts/parallel-offload.sh --selector x; echo sourced"
        ))
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run bash");
    assert_eq!(stdout(&o), "sourced\n", "{}", stderr(&o));
}

#[test]
fn parallel_script_commands_are_accepted_and_keep_secrets_off_the_command_line() {
    let t = TestDir::new();
    let d = parallel_dry_run(
        "http://127.0.0.1:9",
        "2/worker1,worker2",
        &t.path("env"),
        &t.path("dest"),
    );
    for (name, value) in SECRETS {
        assert!(
            !d.output.contains(value),
            "the value of {name} in the commands:\n{}",
            d.output
        );
        assert!(!d.forwarded.contains(&name.to_string()), "{name} forwarded with --env");
    }
    assert_eq!(d.forwarded, ["WARP10_URL", "AWS_ENDPOINT_URL_S3"]);
    let remote = d.remote.replace("{}", &d.ids[0]);
    let mut commands = vec![d.plan.clone()];
    commands.extend(support::warp_offload_args(&remote, |_| None));
    assert_eq!(commands.len(), 2, "{}", d.output);
    for args in &commands {
        support::assert_accepted(args);
        assert_no_secret_argument(args);
    }
}

#[test]
fn parallel_script_segments_run_on_a_host_with_secrets_from_its_env_file() {
    let fake = small_fake(10);
    let t = TestDir::new();
    let env_file = t.secret_file(
        "remote.env",
        &format!("WARP10_READ_TOKEN={READ_TOKEN}\nWARP10_WRITE_TOKEN={WRITE_TOKEN}\n"),
    );
    let d = parallel_dry_run(&fake.url, "worker1", &env_file, &t.path("dest"));
    assert_eq!(d.ids.len(), 2, "{}", d.output);
    // What GNU parallel runs on the host for each segment: the command with {} replaced, in a
    // shell that has the --env variables and nothing else of ours.
    let env = BTreeMap::from([("WARP10_URL".to_string(), fake.url.clone())]);
    for id in &d.ids {
        let o = sh(&d.remote.replace("{}", id), &t.path("host"), &env);
        assert!(o.status.success(), "segment {id}: {}", stderr(&o));
        let record: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one record");
        assert_eq!(record["id"].as_str(), Some(id.as_str()));
        assert_purged(&record);
    }
    assert_eq!(fake.count(SELECTOR, RANGE.0, RANGE.1).1, 0, "points left in the range");
}

#[test]
fn demo_script_offloads_purges_and_restores_at_a_small_scale() {
    let o = Command::new(format!("{ROOT}/scripts/demo.sh"))
        .arg("--bin")
        .arg(bin())
        .args(["--hosts", "1", "--days", "1"])
        .env_remove("WARP_OFFLOAD_DEMO_S3")
        .output()
        .expect("run demo.sh");
    let out = stdout(&o);
    assert!(o.status.success(), "demo.sh failed:\n{out}\n{}", stderr(&o));
    assert!(
        out.contains("4/4 segments restored with equal points, series and digest"),
        "{out}"
    );
    assert!(out.ends_with("demo OK\n"), "{out}");
    // It cleaned up after itself: its temp directory is gone and nothing started from it runs.
    let tmp = out
        .lines()
        .find_map(|l| l.strip_prefix("==> offloading: all --purge --dest "))
        .and_then(|dest| Path::new(dest).parent())
        .unwrap_or_else(|| panic!("no destination in\n{out}"))
        .to_str()
        .unwrap();
    assert!(!Path::new(tmp).exists(), "{tmp} left behind");
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains(tmp),
            "a process of the demo still runs: {}",
            String::from_utf8_lossy(&cmdline).replace('\0', " ")
        );
    }
}
