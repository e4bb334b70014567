//! The deploy examples of `examples/deploy/` (a Python and a Node.js app behind
//! `lambda-adapter`), run exactly as each deployment runs them, under the emulator, with no AWS:
//!
//! - **container image** (`Dockerfile`): its `COPY`, `ENV` and `WORKDIR` lines build the image's
//!   file tree in a temporary directory (`<tmp>/opt/extensions/lambda-adapter`,
//!   `<tmp>/var/task/app.py`); the emulator starts every file of `<tmp>/opt/extensions` as an
//!   external extension, as Lambda does with `/opt/extensions`, then the image's `CMD`;
//! - **zip + layer** (`package.sh`, `template.yaml`): `package.sh` builds `layer.zip` and
//!   `function.zip`; what they hold goes to `<tmp>/opt` and `<tmp>/var/task`, and the emulator
//!   runs the function as Lambda runs a managed runtime with the template's environment
//!   (`AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap`) and handler (`run.sh`);
//! - **supervisor** (`Dockerfile.supervisor`): the image's entry point `lambda-adapter --` starts
//!   the app itself.
//!
//! Each run goes through the Function URL (`/`, cookies, the request context, server-sent events
//! arriving one by one when streaming) and the invoke endpoint (an SQS event reaching `/events`).
//! Static checks: the templates parse and name files that exist, the Dockerfiles copy only what
//! exists, the scripts are executable, and the guide names only paths that exist.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use serde_yaml::Value as Yaml;
use serverless_adapter_e2e::ports::free_port;
use serverless_adapter_e2e::{binary, bounded, workspace_root};
use serverless_adapter_emulator::{sample_event, Emulator, EmulatorBuilder, InvokeMode};

/// Liveness bound of every step (machines are noisy: generous).
const LIMIT: Duration = Duration::from_secs(60);
/// Where `cargo lambda build --release --extension` puts the binary: the Dockerfiles copy it
/// from there, `package.sh` takes it from there by default.
const BUILD_OUTPUT: &str = "target/lambda/extensions/lambda-adapter";
/// The longest the app may wait between two server-sent events (its own limit). The streaming
/// check asks for two events this far apart and must see the first one long before the app
/// writes the second: an answer held back anywhere would not arrive within
/// [`FIRST_EVENT_LIMIT`].
const STREAM_INTERVAL_MS: u64 = 60_000;
/// How long the first event of the streaming check may take: well within the app's interval
/// and the function's timeout (the emulator's default, 30 s).
const FIRST_EVENT_LIMIT: Duration = Duration::from_secs(20);

fn repo_root() -> PathBuf {
    workspace_root()
        .canonicalize()
        .expect("the repository root")
}

fn adapter_bin() -> PathBuf {
    binary("lambda-adapter")
}

#[derive(Debug, Clone, Copy)]
enum Lang {
    Python,
    Node,
}

impl Lang {
    const ALL: [Lang; 2] = [Lang::Python, Lang::Node];

    fn name(self) -> &'static str {
        match self {
            Lang::Python => "python",
            Lang::Node => "node",
        }
    }

    fn interpreter(self) -> &'static str {
        match self {
            Lang::Python => "python3",
            Lang::Node => "node",
        }
    }

    fn app_file(self) -> &'static str {
        match self {
            Lang::Python => "app.py",
            Lang::Node => "app.js",
        }
    }

    fn dir(self) -> PathBuf {
        repo_root().join("examples/deploy").join(self.name())
    }

    /// Whether the language's interpreter runs here; says so clearly when it does not.
    fn available(self) -> bool {
        match Command::new(self.interpreter()).arg("--version").output() {
            Ok(output) if output.status.success() => true,
            Ok(output) => {
                eprintln!(
                    "SKIPPED: `{} --version` failed ({}): the {} deploy example cannot run here",
                    self.interpreter(),
                    output.status,
                    self.name()
                );
                false
            }
            Err(error) => {
                eprintln!(
                    "SKIPPED: {} is not installed ({error}): the {} deploy example cannot run here",
                    self.interpreter(),
                    self.name()
                );
                false
            }
        }
    }
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "lambda-adapter-deploy-{}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("the temporary directory is created");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    /// Kills what still runs from the directory first: an app that `lambda-adapter --` started
    /// in its own process group outlives the adapter when a failed test drops the emulator
    /// (which SIGKILLs the adapter's group only).
    fn drop(&mut self) {
        kill_processes_in(&self.0);
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// SIGKILLs every process whose working directory is `dir` or below it (Linux `/proc`).
fn kill_processes_in(dir: &Path) {
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        if fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)) {
            serverless_adapter_e2e::process::kill(pid, libc::SIGKILL);
        }
    }
}

/// `inside` (an absolute path in the image or the sandbox) under `root`.
fn in_root(root: &Path, inside: &Path) -> PathBuf {
    root.join(inside.strip_prefix("/").unwrap_or(inside))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Copies the tree `from` into `to` (modes kept, as Lambda keeps a zip's modes).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

// ---- Dockerfiles ----

#[derive(Debug)]
enum Step {
    Copy {
        from_stage: Option<String>,
        sources: Vec<String>,
        dest: String,
    },
    Env(String, String),
    Workdir(String),
}

#[derive(Debug, Default)]
struct Dockerfile {
    from: Option<String>,
    steps: Vec<Step>,
    entrypoint: Vec<String>,
    cmd: Vec<String>,
}

impl Dockerfile {
    fn parse(path: &Path) -> Self {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let mut lines = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let line = line.trim();
            if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
                continue;
            }
            match line.strip_suffix('\\') {
                Some(head) => {
                    current.push_str(head);
                    current.push(' ');
                }
                None => {
                    current.push_str(line);
                    lines.push(std::mem::take(&mut current));
                }
            }
        }
        assert!(current.is_empty(), "{path:?} ends inside a continued line");

        let mut file = Dockerfile::default();
        for line in lines {
            let (instruction, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            let rest = rest.trim();
            let exec_form = || -> Vec<String> {
                serde_json::from_str(rest).unwrap_or_else(|e| {
                    panic!("{path:?}: `{line}` is not in the exec (JSON array) form: {e}")
                })
            };
            match instruction.to_ascii_uppercase().as_str() {
                "FROM" => file.from = Some(rest.to_owned()),
                "WORKDIR" => file.steps.push(Step::Workdir(rest.to_owned())),
                "ENV" => {
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    if words.first().is_some_and(|w| w.contains('=')) {
                        for word in words {
                            let (key, value) = word.split_once('=').unwrap_or_else(|| {
                                panic!("{path:?}: `{line}`: expected KEY=VALUE pairs")
                            });
                            file.steps
                                .push(Step::Env(key.into(), value.trim_matches('"').into()));
                        }
                    } else {
                        let (key, value) = rest
                            .split_once(char::is_whitespace)
                            .unwrap_or_else(|| panic!("{path:?}: `{line}`: ENV without a value"));
                        file.steps.push(Step::Env(key.into(), value.trim().into()));
                    }
                }
                "COPY" => {
                    let mut from_stage = None;
                    let mut words = Vec::new();
                    for word in rest.split_whitespace() {
                        match word.strip_prefix("--") {
                            Some(flag) => {
                                if let Some(stage) = flag.strip_prefix("from=") {
                                    from_stage = Some(stage.to_owned());
                                }
                            }
                            None => words.push(word.to_owned()),
                        }
                    }
                    let dest = words
                        .pop()
                        .unwrap_or_else(|| panic!("{path:?}: `{line}` has no destination"));
                    assert!(!words.is_empty(), "{path:?}: `{line}` copies nothing");
                    file.steps.push(Step::Copy {
                        from_stage,
                        sources: words,
                        dest,
                    });
                }
                "CMD" => file.cmd = exec_form(),
                "ENTRYPOINT" => file.entrypoint = exec_form(),
                "LABEL" | "EXPOSE" | "ARG" | "STOPSIGNAL" => {}
                other => panic!(
                    "{path:?}: this test mirrors the image and cannot mirror `{other}`; \
                     keep the example to FROM, COPY, ENV, WORKDIR, ENTRYPOINT and CMD"
                ),
            }
        }
        assert!(file.from.is_some(), "{path:?} has no FROM");
        assert!(
            !file.entrypoint.is_empty() || !file.cmd.is_empty(),
            "{path:?} starts nothing (no ENTRYPOINT or CMD)"
        );
        file
    }
}

/// The file a `COPY` source names: in the repository, or the documented build output (then the
/// binary cargo built for this test stands in for it).
fn copy_source(dockerfile: &Path, source: &str) -> PathBuf {
    if source == BUILD_OUTPUT {
        return adapter_bin();
    }
    let path = repo_root().join(source);
    assert!(
        path.is_file(),
        "{dockerfile:?}: COPY source `{source}` is neither a file of the repository nor the \
         documented build output `{BUILD_OUTPUT}`"
    );
    path
}

/// A container image's file tree, built from a Dockerfile in a temporary directory.
struct Image {
    root: TempDir,
    env: Vec<(String, String)>,
    workdir: PathBuf,
    /// ENTRYPOINT then CMD.
    command: Vec<String>,
}

impl Image {
    fn build(dockerfile: &Path) -> Self {
        let file = Dockerfile::parse(dockerfile);
        let root = TempDir::new("image");
        let mut workdir = PathBuf::from("/");
        let mut env = Vec::new();
        for step in &file.steps {
            match step {
                Step::Workdir(dir) => {
                    workdir = workdir.join(dir);
                    fs::create_dir_all(in_root(root.path(), &workdir)).unwrap();
                }
                Step::Env(key, value) => env.push((key.clone(), value.clone())),
                Step::Copy {
                    from_stage: Some(stage),
                    ..
                } => panic!("{dockerfile:?}: COPY --from={stage} is not mirrored by this test"),
                Step::Copy {
                    from_stage: None,
                    sources,
                    dest,
                } => {
                    let into_dir = dest.ends_with('/') || dest == "." || sources.len() > 1;
                    let dest = workdir.join(dest);
                    for source in sources {
                        let file = copy_source(dockerfile, source);
                        let target = if into_dir {
                            dest.join(Path::new(source).file_name().unwrap())
                        } else {
                            dest.clone()
                        };
                        let target = in_root(root.path(), &target);
                        fs::create_dir_all(target.parent().unwrap()).unwrap();
                        fs::copy(&file, &target).unwrap();
                    }
                }
            }
        }
        let command = [file.entrypoint, file.cmd].concat();
        Self {
            root,
            env,
            workdir,
            command,
        }
    }

    fn env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The image's command, with absolute paths into the image's tree.
    fn command(&self) -> Command {
        let program = &self.command[0];
        let inside = in_root(self.root.path(), Path::new(program));
        let mut command = if program.starts_with('/') {
            assert!(
                is_executable(&inside),
                "the image's entry point {program} is not an executable file of the image"
            );
            Command::new(inside)
        } else {
            Command::new(program)
        };
        command
            .args(&self.command[1..])
            .current_dir(in_root(self.root.path(), &self.workdir));
        command
    }
}

// ---- SAM templates ----

/// The value of a YAML tag such as `!Ref X` or `!GetAtt X.Arn`.
fn tagged<'a>(value: &'a Yaml, tag: &str) -> Option<&'a Yaml> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == tag => Some(&tagged.value),
        _ => None,
    }
}

fn yaml_str<'a>(value: &'a Yaml, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// What a template says about the function.
#[derive(Debug)]
struct Template {
    handler: String,
    env: BTreeMap<String, String>,
    url_invoke_mode: String,
    code_uri: String,
    layer_uri: String,
}

impl Template {
    /// Parses the example's `template.yaml` and checks that it is a complete deployment: a
    /// function with the lambda-adapter layer, the exec wrapper, a Function URL and an SQS event
    /// source on a queue of the template.
    fn load(lang: Lang) -> Self {
        let path = lang.dir().join("template.yaml");
        let text = fs::read_to_string(&path).unwrap();
        let doc: Yaml = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("{path:?} does not parse as YAML: {e}"));
        assert_eq!(
            doc["Transform"].as_str(),
            Some("AWS::Serverless-2016-10-31"),
            "{path:?} is a SAM template"
        );
        let resources = doc["Resources"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{path:?} has no Resources"));
        let of_type = |kind: &str| -> Vec<(&str, &Yaml)> {
            resources
                .iter()
                .filter(|(_, r)| r["Type"].as_str() == Some(kind))
                .map(|(name, r)| (name.as_str().unwrap(), &r["Properties"]))
                .collect()
        };
        let functions = of_type("AWS::Serverless::Function");
        assert_eq!(functions.len(), 1, "{path:?}: one function");
        let function = functions[0].1;

        let layers = function["Layers"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{path:?}: the function has no Layers"));
        assert_eq!(
            layers.len(),
            1,
            "{path:?}: the function has the adapter's layer"
        );
        let layer_name = yaml_str(
            tagged(&layers[0], "Ref")
                .unwrap_or_else(|| panic!("{path:?}: the layer is not a !Ref: {:?}", layers[0])),
            "the layer reference",
        );
        let layer = &resources
            .get(layer_name)
            .unwrap_or_else(|| panic!("{path:?}: !Ref {layer_name} names no resource"));
        assert_eq!(
            layer["Type"].as_str(),
            Some("AWS::Serverless::LayerVersion"),
            "{path:?}: {layer_name} is a layer"
        );

        let env: BTreeMap<String, String> = function["Environment"]["Variables"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{path:?}: the function has no environment"))
            .iter()
            .map(|(k, v)| {
                let key = yaml_str(k, "a variable name").to_owned();
                let value = yaml_str(v, &key).to_owned();
                (key, value)
            })
            .collect();

        let url = &function["FunctionUrlConfig"];
        let url_invoke_mode = yaml_str(&url["InvokeMode"], "FunctionUrlConfig.InvokeMode");
        assert!(
            url["AuthType"].as_str().is_some(),
            "{path:?}: the Function URL has an AuthType"
        );

        let events = function["Events"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{path:?}: the function has no event sources"));
        let sqs: Vec<&Yaml> = events
            .values()
            .filter(|e| e["Type"].as_str() == Some("SQS"))
            .collect();
        assert_eq!(sqs.len(), 1, "{path:?}: one SQS event source");
        let queue = yaml_str(
            tagged(&sqs[0]["Properties"]["Queue"], "GetAtt")
                .unwrap_or_else(|| panic!("{path:?}: the SQS source's Queue is not a !GetAtt")),
            "the queue",
        );
        let queue_name = queue.strip_suffix(".Arn").unwrap_or_else(|| {
            panic!("{path:?}: the SQS source takes the queue's Arn, not {queue}")
        });
        assert!(
            of_type("AWS::SQS::Queue")
                .iter()
                .any(|(name, _)| *name == queue_name),
            "{path:?}: the SQS source names {queue_name}, a queue of the template"
        );

        Template {
            handler: yaml_str(&function["Handler"], "Handler").to_owned(),
            env,
            url_invoke_mode: url_invoke_mode.to_owned(),
            code_uri: yaml_str(&function["CodeUri"], "CodeUri").to_owned(),
            layer_uri: yaml_str(&layer["Properties"]["ContentUri"], "ContentUri").to_owned(),
        }
    }
}

// ---- zip + layer ----

/// One entry of a zip file's central directory.
#[derive(Debug)]
struct ZipEntry {
    name: String,
    mode: u32,
    crc32: u32,
    size: u64,
}

/// The entries of a zip file, read from its central directory.
fn zip_entries(path: &Path) -> Vec<ZipEntry> {
    let data = fs::read(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let u16_at = |at: usize| u16::from_le_bytes([data[at], data[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
    let end = (0..=data.len().saturating_sub(22))
        .rev()
        .find(|&at| data[at..].starts_with(b"PK\x05\x06"))
        .unwrap_or_else(|| panic!("{path:?} is not a zip file"));
    let count = u16_at(end + 10);
    let mut at = u32_at(end + 16) as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        assert!(
            data[at..].starts_with(b"PK\x01\x02"),
            "{path:?}: bad central directory"
        );
        let name_len = u16_at(at + 28);
        let name = String::from_utf8(data[at + 46..at + 46 + name_len].to_vec()).unwrap();
        assert_eq!(
            data[at + 5],
            3,
            "{name} in {path:?} was stored without Unix modes: Lambda would not keep them"
        );
        entries.push(ZipEntry {
            mode: u32_at(at + 38) >> 16,
            crc32: u32_at(at + 16),
            size: u64::from(u32_at(at + 24)),
            name,
        });
        at += 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
    }
    entries
}

fn crc32(data: &[u8]) -> u32 {
    static TABLE: OnceLock<[u32; 256]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut crc = i as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
            *slot = crc;
        }
        table
    });
    !data.iter().fold(!0u32, |crc, &byte| {
        table[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8)
    })
}

/// The files under `dir`, as zip entry names (`extensions/lambda-adapter`).
fn files_under(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_str().unwrap());
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push((name, entry.path()));
        }
    }
}

/// Checks that `zip` holds exactly the files of `dir`: same names, modes, sizes and CRC-32.
fn assert_zip_matches(zip: &Path, dir: &Path) {
    let mut files = Vec::new();
    files_under(dir, "", &mut files);
    let entries: Vec<ZipEntry> = zip_entries(zip)
        .into_iter()
        .filter(|e| !e.name.ends_with('/'))
        .collect();
    assert_eq!(
        entries.len(),
        files.len(),
        "{zip:?} holds {entries:?}, {dir:?} holds {files:?}"
    );
    for (name, path) in files {
        let entry = entries
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{zip:?} lacks {name}"));
        let data = fs::read(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(entry.mode & 0o777, mode, "{name}'s mode in {zip:?}");
        assert_eq!(entry.size, data.len() as u64, "{name}'s size in {zip:?}");
        assert_eq!(entry.crc32, crc32(&data), "{name}'s CRC-32 in {zip:?}");
    }
}

/// The output of an example's `package.sh`, in a temporary directory.
struct Package {
    out: TempDir,
}

impl Package {
    /// Runs `package.sh` with this test's `lambda-adapter` binary.
    fn build(lang: Lang, zip_with: Option<&str>) -> Self {
        let out = TempDir::new("package");
        let mut command = Command::new(lang.dir().join("package.sh"));
        command.env("ADAPTER", adapter_bin()).env("OUT", out.path());
        if let Some(tool) = zip_with {
            command.env("ZIP_WITH", tool);
        }
        let output = command.output().expect("package.sh runs");
        assert!(
            output.status.success(),
            "package.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let package = Self { out };
        assert_zip_matches(&package.file("layer.zip"), &package.file("layer"));
        assert_zip_matches(&package.file("function.zip"), &package.file("function"));
        package
    }

    fn file(&self, name: &str) -> PathBuf {
        self.out.path().join(name)
    }

    /// A path of the template (`build/layer.zip`) in this output (`<out>/layer.zip`).
    fn output_of(&self, template_path: &str) -> PathBuf {
        let relative = template_path.strip_prefix("build/").unwrap_or_else(|| {
            panic!("`{template_path}` is not in build/, where package.sh writes")
        });
        self.file(relative)
    }
}

// ---- running under the emulator ----

fn url_mode(lwa_mode: &str) -> InvokeMode {
    match lwa_mode {
        "response_stream" => InvokeMode::ResponseStream,
        "buffered" => InvokeMode::Buffered,
        other => panic!("AWS_LWA_INVOKE_MODE={other} is neither buffered nor response_stream"),
    }
}

async fn start(builder: EmulatorBuilder, what: &str) -> Emulator {
    let emulator = builder
        .quiet(true)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{what}: the emulator starts: {e}"));
    emulator.wait_ready(LIMIT).await.unwrap_or_else(|e| {
        panic!("{what}: the adapter polls the Runtime API once the app is ready: {e}")
    });
    emulator
}

/// Everything a deployment must do, through the Function URL and the invoke endpoint.
async fn exercise(emulator: &Emulator, streaming: bool, what: &str) {
    let root = bounded(emulator.get("/")).await.unwrap();
    assert_eq!(root.status, 200, "{what}: GET /");
    assert_eq!(root.text(), "ok", "{what}: GET /");

    let cookies = bounded(emulator.get("/cookies")).await.unwrap();
    assert_eq!(cookies.status, 200, "{what}: GET /cookies");
    assert_eq!(
        cookies.header_all("set-cookie"),
        ["a=1; Path=/", "b=2; Path=/"],
        "{what}: both cookies arrive"
    );

    let context = bounded(emulator.get("/context?from=test")).await.unwrap();
    assert_eq!(
        context.status,
        200,
        "{what}: GET /context: {}",
        context.text()
    );
    let request_id = context
        .header("x-amzn-requestid")
        .expect("the Function URL names the invocation")
        .to_owned();
    let body: Value = serde_json::from_slice(&context.body()).unwrap();
    assert_eq!(
        body,
        json!({"requestId": request_id, "path": "/context", "lambdaRequestId": request_id}),
        "{what}: the app reads the event's request context from x-amzn-request-context"
    );

    let missing = bounded(emulator.get("/missing")).await.unwrap();
    assert_eq!(missing.status, 404, "{what}: the app's 404 passes through");
    let bad = bounded(emulator.get("/stream?chunks=many")).await.unwrap();
    assert_eq!(bad.status, 400, "{what}: bad input is refused");
    assert!(bad.text().contains("chunks"), "{what}: {}", bad.text());

    let request = http::Request::get("/stream?chunks=3&interval_ms=50")
        .body(Bytes::new())
        .unwrap();
    let mut response = bounded(emulator.request(request)).await.unwrap();
    assert_eq!(response.status, 200, "{what}: GET /stream");
    assert_eq!(
        response.headers.get("content-type").unwrap(),
        "text/event-stream",
        "{what}"
    );
    let mut body = Vec::new();
    let mut at_first_event = None;
    while let Some((_, chunk)) = bounded(response.chunk()).await.unwrap() {
        body.extend_from_slice(&chunk);
        if at_first_event.is_none() && body.windows(2).any(|w| w == b"\n\n") {
            at_first_event = Some(body.clone());
        }
    }
    let whole = b"data: 0\n\ndata: 1\n\ndata: 2\n\n";
    assert_eq!(body, whole, "{what}: every event, in order");
    if !streaming {
        assert_eq!(
            at_first_event.unwrap(),
            whole,
            "{what}: a buffered Function URL gets the whole answer at once"
        );
    }

    // A non-HTTP event goes to the pass-through route, buffered even when HTTP streams. The
    // emulator's SQS sample batch has one record the app refuses (its body says "fail").
    let batch: Value = serde_json::from_str(sample_event("sqs").expect("the SQS sample")).unwrap();
    let mut accepted = batch.clone();
    accepted["Records"]
        .as_array_mut()
        .unwrap()
        .retain(|record| !record["body"].as_str().unwrap().contains("fail"));
    assert!(!accepted["Records"].as_array().unwrap().is_empty());
    assert_ne!(accepted, batch, "the sample has a record the app refuses");
    let answer = bounded(emulator.invoke(accepted.to_string()))
        .await
        .unwrap();
    assert!(!answer.is_error(), "{what}: SQS: {:?}", answer.error());
    assert!(
        answer.streamed().is_none(),
        "{what}: SQS is answered buffered"
    );
    assert_eq!(
        answer.json::<Value>().unwrap(),
        json!({"ok": true}),
        "{what}: SQS"
    );
    let failed = bounded(emulator.invoke(batch.to_string())).await.unwrap();
    assert!(
        failed.is_error(),
        "{what}: the app's 500 on /events fails the invocation, so Lambda retries the batch"
    );

    if streaming {
        // Last, as the app is then busy for a minute: the first event must arrive while the
        // second is still a minute away.
        let request =
            http::Request::get(format!("/stream?chunks=2&interval_ms={STREAM_INTERVAL_MS}"))
                .body(Bytes::new())
                .unwrap();
        let mut response = bounded(emulator.request(request)).await.unwrap();
        assert_eq!(response.status, 200, "{what}: GET /stream");
        let mut body = Vec::new();
        while !body.windows(2).any(|w| w == b"\n\n") {
            let chunk = tokio::time::timeout(FIRST_EVENT_LIMIT, response.chunk())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{what}: the first event did not arrive within {FIRST_EVENT_LIMIT:?}, \
                         the second being {STREAM_INTERVAL_MS} ms away: the answer does not stream"
                    )
                })
                .unwrap_or_else(|e| {
                    panic!("{what}: the answer ended before its first event (the function timed out?): {e}")
                })
                .expect("the stream goes on");
            body.extend_from_slice(&chunk.1);
        }
        assert_eq!(body, b"data: 0\n\n", "{what}: the first event, alone");
    }
}

/// The container image: `lambda-adapter` in `/opt/extensions`, the image's `CMD` as the function.
async fn container_image_with_the_extension(lang: Lang) {
    if !lang.available() {
        return;
    }
    let what = format!("{} Dockerfile (extension)", lang.name());
    let image = Image::build(&lang.dir().join("Dockerfile"));
    let extensions = in_root(image.root.path(), Path::new("/opt/extensions"));
    assert!(
        is_executable(&extensions.join("lambda-adapter")),
        "{what}: the image has /opt/extensions/lambda-adapter"
    );
    let mode = image.env("AWS_LWA_INVOKE_MODE").unwrap_or("buffered");
    let mut builder = Emulator::builder()
        .extensions_dir(&extensions)
        .invoke_mode(url_mode(mode))
        .command(image.command());
    for (key, value) in &image.env {
        builder = builder.env(key, value);
    }
    // The function's configuration overrides the image's ENV; here only the port, to be free.
    builder = builder.env("AWS_LWA_PORT", free_port().to_string());
    let emulator = start(builder, &what).await;
    exercise(&emulator, mode == "response_stream", &what).await;
    emulator.shutdown().await.unwrap();
}

/// The zip + layer: the template's function, with the layer at `/opt` and the code at
/// `/var/task`, started through the exec wrapper as on a managed runtime.
async fn zip_and_layer_with_the_exec_wrapper(lang: Lang) {
    if !lang.available() {
        return;
    }
    let what = format!("{} zip + layer (exec wrapper)", lang.name());
    let template = Template::load(lang);
    let package = Package::build(lang, None);
    let sandbox = TempDir::new("sandbox");
    let opt = in_root(sandbox.path(), Path::new("/opt"));
    let task = in_root(sandbox.path(), Path::new("/var/task"));
    copy_tree(&package.file("layer"), &opt);
    copy_tree(&package.file("function"), &task);

    let wrapper = &template.env["AWS_LAMBDA_EXEC_WRAPPER"];
    assert!(
        wrapper.starts_with("/opt/"),
        "{what}: the exec wrapper is in the layer"
    );
    let mode = template
        .env
        .get("AWS_LWA_INVOKE_MODE")
        .map_or("buffered", String::as_str);
    // What a managed runtime would start; the wrapper runs instead and starts the handler.
    let mut runtime = Command::new("/var/runtime/bootstrap");
    runtime.current_dir(&task);
    let mut builder = Emulator::builder()
        .extensions_dir(opt.join("extensions"))
        .invoke_mode(url_mode(mode))
        .handler(&template.handler)
        .task_root(&task)
        .command(runtime);
    for (key, value) in &template.env {
        builder = builder.env(key, value);
    }
    builder = builder
        .env(
            "AWS_LAMBDA_EXEC_WRAPPER",
            in_root(sandbox.path(), Path::new(wrapper))
                .to_str()
                .unwrap(),
        )
        .env("AWS_LWA_PORT", free_port().to_string());
    let emulator = start(builder, &what).await;
    exercise(&emulator, mode == "response_stream", &what).await;
    emulator.shutdown().await.unwrap();
}

/// The supervisor image: `lambda-adapter -- CMD` as the function, in the invoke mode the
/// example's other deployments do not use (set in the function's configuration), so that each
/// app is checked buffered and streaming.
async fn supervisor_image(lang: Lang) {
    if !lang.available() {
        return;
    }
    let what = format!("{} Dockerfile.supervisor", lang.name());
    let image = Image::build(&lang.dir().join("Dockerfile.supervisor"));
    assert!(
        !in_root(image.root.path(), Path::new("/opt/extensions")).exists(),
        "{what}: nothing in /opt/extensions (Lambda would start it as an extension too)"
    );
    assert_eq!(
        image.command.get(1).map(String::as_str),
        Some("--"),
        "{what}: the entry point is `lambda-adapter --`"
    );
    let image_mode = image.env("AWS_LWA_INVOKE_MODE").unwrap_or("buffered");
    let mode = if image_mode == "response_stream" {
        "buffered"
    } else {
        "response_stream"
    };
    let mut builder = Emulator::builder()
        .invoke_mode(url_mode(mode))
        .command(image.command());
    for (key, value) in &image.env {
        builder = builder.env(key, value);
    }
    builder = builder
        .env("AWS_LWA_INVOKE_MODE", mode)
        .env("AWS_LWA_PORT", free_port().to_string());
    let emulator = start(builder, &what).await;
    exercise(&emulator, mode == "response_stream", &what).await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn python_container_image_with_the_extension() {
    container_image_with_the_extension(Lang::Python).await;
}

#[tokio::test]
async fn python_zip_and_layer_with_the_exec_wrapper() {
    zip_and_layer_with_the_exec_wrapper(Lang::Python).await;
}

#[tokio::test]
async fn python_supervisor_image() {
    supervisor_image(Lang::Python).await;
}

#[tokio::test]
async fn node_container_image_with_the_extension() {
    container_image_with_the_extension(Lang::Node).await;
}

#[tokio::test]
async fn node_zip_and_layer_with_the_exec_wrapper() {
    zip_and_layer_with_the_exec_wrapper(Lang::Node).await;
}

#[tokio::test]
async fn node_supervisor_image() {
    supervisor_image(Lang::Node).await;
}

// ---- static checks ----

/// The `AWS_LWA_*` settings `lambda-adapter --help` lists.
fn known_settings() -> String {
    let output = Command::new(adapter_bin()).arg("--help").output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

fn dockerfiles() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for lang in Lang::ALL {
        for entry in fs::read_dir(lang.dir()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if name.starts_with("Dockerfile") && !name.ends_with(".dockerignore") {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn dockerfiles_copy_only_what_exists_and_send_it_to_docker() {
    let help = known_settings();
    let guide = fs::read_to_string(repo_root().join("docs/deploying.md")).unwrap();
    assert!(
        guide.contains(BUILD_OUTPUT),
        "the guide documents the build output the Dockerfiles copy"
    );
    let dockerfiles = dockerfiles();
    assert_eq!(dockerfiles.len(), 4, "{dockerfiles:?}");
    for path in dockerfiles {
        let file = Dockerfile::parse(&path);
        let ignore = fs::read_to_string(format!("{}.dockerignore", path.display()))
            .unwrap_or_else(|e| panic!("{path:?} has its .dockerignore: {e}"));
        let ignore: Vec<&str> = ignore.lines().map(str::trim).collect();
        assert!(
            ignore.contains(&"*"),
            "{path:?}: the context (the repository root) is not sent whole"
        );
        let mut copies_adapter = false;
        for step in &file.steps {
            match step {
                Step::Copy {
                    from_stage,
                    sources,
                    dest,
                } => {
                    assert!(from_stage.is_none(), "{path:?}: COPY --from");
                    for source in sources {
                        copy_source(&path, source);
                        assert!(
                            ignore.contains(&format!("!{source}").as_str()),
                            "{path:?}: its .dockerignore lets `{source}` through"
                        );
                        if source == BUILD_OUTPUT {
                            copies_adapter = true;
                            assert!(
                                dest == "/opt/extensions/lambda-adapter"
                                    || dest == "/usr/local/bin/lambda-adapter",
                                "{path:?}: the adapter goes to {dest}"
                            );
                        }
                    }
                }
                Step::Env(key, _) if key.starts_with("AWS_LWA_") => {
                    assert!(
                        help.contains(key.as_str()),
                        "{path:?}: {key} is not a lambda-adapter setting"
                    );
                }
                _ => {}
            }
        }
        assert!(copies_adapter, "{path:?} copies {BUILD_OUTPUT}");
    }
}

#[test]
fn sam_templates_parse_and_name_what_exists() {
    let help = known_settings();
    let mut url_modes = Vec::new();
    for lang in Lang::ALL {
        let template = Template::load(lang);
        let what = format!("{}/template.yaml", lang.name());
        let handler = lang.dir().join(&template.handler);
        assert!(is_executable(&handler), "{what}: the handler {handler:?}");
        assert_eq!(
            template
                .env
                .get("AWS_LAMBDA_EXEC_WRAPPER")
                .map(String::as_str),
            Some("/opt/bootstrap"),
            "{what}"
        );
        for key in template.env.keys().filter(|k| k.starts_with("AWS_LWA_")) {
            assert!(
                help.contains(key.as_str()),
                "{what}: {key} is not a setting"
            );
        }
        let lwa_mode = template
            .env
            .get("AWS_LWA_INVOKE_MODE")
            .map_or("buffered", String::as_str);
        assert_eq!(
            template.url_invoke_mode,
            lwa_mode.to_ascii_uppercase(),
            "{what}: the Function URL's InvokeMode matches AWS_LWA_INVOKE_MODE"
        );
        url_modes.push(template.url_invoke_mode.clone());

        // The archives the template names are what package.sh makes, with the wrapper, the
        // extension and the handler where Lambda looks for them; either zip tool makes the same.
        for zip_with in ["python3", "zip"] {
            let tool_here = Command::new(zip_with).arg("-h").output().is_ok();
            if !tool_here {
                eprintln!("{what}: {zip_with} is not installed; package.sh with it is not checked");
                continue;
            }
            let package = Package::build(lang, Some(zip_with));
            let layer = package.output_of(&template.layer_uri);
            let code = package.output_of(&template.code_uri);
            let layer_names: Vec<String> =
                zip_entries(&layer).into_iter().map(|e| e.name).collect();
            for name in ["bootstrap", "extensions/lambda-adapter"] {
                let entry = zip_entries(&layer).into_iter().find(|e| e.name == name);
                let entry = entry
                    .unwrap_or_else(|| panic!("{what}: {layer:?} lacks {name}: {layer_names:?}"));
                assert_eq!(entry.mode & 0o755, 0o755, "{what}: {name} is executable");
            }
            let handler = zip_entries(&code)
                .into_iter()
                .find(|e| e.name == template.handler)
                .unwrap_or_else(|| panic!("{what}: {code:?} lacks the handler"));
            assert_eq!(
                handler.mode & 0o755,
                0o755,
                "{what}: the handler is executable"
            );
            assert!(
                zip_entries(&code).iter().any(|e| e.name == lang.app_file()),
                "{what}: {code:?} has {}",
                lang.app_file()
            );
        }
    }
    url_modes.sort();
    assert_eq!(
        url_modes,
        ["BUFFERED", "RESPONSE_STREAM"],
        "one example buffered, one streaming"
    );
}

#[test]
fn scripts_are_executable() {
    let mut scripts = vec![repo_root().join("frameworks/proxy/layer/bootstrap")];
    for lang in Lang::ALL {
        scripts.push(lang.dir().join("run.sh"));
        scripts.push(lang.dir().join("package.sh"));
    }
    for script in scripts {
        assert!(is_executable(&script), "{script:?} is executable");
        let text = fs::read_to_string(&script).unwrap();
        assert!(
            text.starts_with("#!/bin/sh\n"),
            "{script:?} starts with #!/bin/sh"
        );
        let check = Command::new("sh").arg("-n").arg(&script).output().unwrap();
        assert!(
            check.status.success(),
            "{script:?}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

#[test]
fn the_guide_and_readmes_name_paths_that_exist() {
    let root = repo_root();
    let mut docs = vec![root.join("docs/deploying.md")];
    for lang in Lang::ALL {
        docs.push(lang.dir().join("README.md"));
    }
    for doc in docs {
        let text = fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{doc:?}: {e}"));
        let mut named = 0;
        for prefix in ["examples/", "frameworks/", "docs/"] {
            for (at, _) in text.match_indices(prefix) {
                let preceded_by_path = text[..at].ends_with(|c: char| {
                    c.is_alphanumeric() || c == '/' || c == '.' || c == '-' || c == '_'
                });
                if preceded_by_path {
                    continue;
                }
                let path: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "/._-".contains(*c))
                    .collect();
                let path = path.trim_end_matches('.');
                if path.contains("/build/") {
                    // What package.sh writes (checked by the packaging tests), not repository files.
                    continue;
                }
                named += 1;
                assert!(
                    root.join(path).exists(),
                    "{doc:?} names {path}, which does not exist"
                );
            }
        }
        assert!(named > 0, "{doc:?} names the files it describes");
    }

    // The Dockerfile the guide shows is the example's, instruction for instruction.
    let guide = fs::read_to_string(root.join("docs/deploying.md")).unwrap();
    let shown: Vec<&str> = guide
        .split("```text\n")
        .find(|block| block.starts_with("FROM "))
        .expect("the guide shows a Dockerfile")
        .split("```")
        .next()
        .unwrap()
        .lines()
        .collect();
    let dockerfile = fs::read_to_string(Lang::Python.dir().join("Dockerfile")).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    assert_eq!(
        shown, instructions,
        "the guide shows examples/deploy/python/Dockerfile"
    );
}
