//! The executor's Fargate role against the emulator's ECS: recorded RunTasks run as processes.

use aws_sdk_ecs::types::{
    AwsVpcConfiguration, Compatibility, ContainerDefinition, ContainerOverride, KeyValuePair,
    LaunchType, NetworkConfiguration, NetworkMode, TaskOverride,
};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use testkit::resources::{unique, TestResources};
use triage::executor::fargate::TaskRunner;

fn pair(name: &str, value: &str) -> KeyValuePair {
    KeyValuePair::builder().name(name).value(value).build()
}

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("executable");
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The pid a sleeper task wrote once it started.
async fn started_pid(pid_file: &Path) -> String {
    wait_for("the sleeper's pid", async || {
        pid_file.exists() && std::fs::read_to_string(pid_file).is_ok_and(|p| !p.trim().is_empty())
    })
    .await;
    std::fs::read_to_string(pid_file)
        .expect("pid")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn recorded_tasks_run_with_their_environment_and_stop_with_their_exit_code() {
    let aws = TestResources::new().await;
    let ecs = aws_sdk_ecs::Client::new(&aws.config);
    let work = std::env::temp_dir().join(unique("fargate"));
    std::fs::create_dir_all(&work).expect("work dir");
    let env_file = work.join("env.txt");
    let pid_file = work.join("sleeper.pid");
    script(
        &work,
        "reporter",
        &format!("env | sort > '{}'; exit 3", env_file.display()),
    );
    let stopped_file = work.join("sleeper.stopped");
    script(
        &work,
        "sleeper",
        &format!(
            "trap 'echo SIGTERM > \"{}\"; kill $!; exit 0' TERM; echo $$ > '{}'; sleep 60 & wait",
            stopped_file.display(),
            pid_file.display()
        ),
    );

    let cluster = unique("large");
    ecs.create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .expect("cluster");
    for binary in ["reporter", "sleeper"] {
        let labels = [(
            triage::executor::discover::BINARY_TAG.to_owned(),
            binary.to_owned(),
        )]
        .into();
        ecs.register_task_definition()
            .family(binary)
            .requires_compatibilities(Compatibility::Fargate)
            .network_mode(NetworkMode::Awsvpc)
            .cpu("256")
            .memory("512")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("large-file")
                    .image("large-file:local")
                    .memory(512)
                    .environment(pair("FROM_DEFINITION", "kept"))
                    .environment(pair("OVERRIDDEN", "by the definition"))
                    .set_docker_labels(Some(labels))
                    .build(),
            )
            .send()
            .await
            .expect("task definition");
    }
    let subnet = aws.emulator.default_subnet().expect("a default subnet");
    let run = |family: &'static str| {
        ecs.run_task()
            .cluster(&cluster)
            .task_definition(family)
            .launch_type(LaunchType::Fargate)
            .network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        AwsVpcConfiguration::builder()
                            .subnets(&subnet)
                            .security_groups("sg-0")
                            .build()
                            .expect("vpc config"),
                    )
                    .build(),
            )
            .overrides(
                TaskOverride::builder()
                    .container_overrides(
                        ContainerOverride::builder()
                            .name("large-file")
                            .environment(pair("OVERRIDDEN", "by the run"))
                            .environment(pair("TRIAGE_FROM_THE_RUN", "yes"))
                            .build(),
                    )
                    .build(),
            )
            .send()
    };
    let reporter_arn = run("reporter").await.expect("run").tasks()[0]
        .task_arn()
        .expect("arn")
        .to_owned();

    let runtime_env = BTreeMap::from([("AWS_REGION".to_owned(), emulator::REGION.to_owned())]);
    let mut runner = TaskRunner::new(ecs.clone(), PathBuf::from(&work), runtime_env);
    assert_eq!(runner.poll_once().await.expect("poll"), 1);
    assert_eq!(
        runner.poll_once().await.expect("poll"),
        0,
        "a task runs once"
    );

    wait_for("the reporter's stop", async || {
        let tasks = ecs
            .describe_tasks()
            .cluster(&cluster)
            .tasks(&reporter_arn)
            .send()
            .await
            .expect("describe");
        tasks.tasks()[0]
            .stopped_reason()
            .is_some_and(|r| r.contains("exited with code 3"))
    })
    .await;
    let environment = std::fs::read_to_string(&env_file).expect("the task wrote its environment");
    for expected in [
        "FROM_DEFINITION=kept",
        "OVERRIDDEN=by the run",
        "TRIAGE_FROM_THE_RUN=yes",
        "AWS_REGION=us-east-1",
    ] {
        assert!(
            environment.lines().any(|line| line == expected),
            "{expected} missing:\n{environment}"
        );
    }

    // A task stopped through ECS (a scale-in): SIGTERM, and the StopTask's reason kept.
    let started = run("sleeper").await.expect("run");
    let sleeper_arn = started.tasks()[0].task_arn().expect("arn").to_owned();
    assert_eq!(runner.poll_once().await.expect("poll"), 1);
    let pid = started_pid(&pid_file).await;
    ecs.stop_task()
        .cluster(&cluster)
        .task(&sleeper_arn)
        .reason("scaled in")
        .send()
        .await
        .expect("stopped");
    runner.poll_once().await.expect("poll");
    wait_for("the stopped sleeper's exit", async || {
        stopped_file.exists() && !Path::new(&format!("/proc/{pid}")).exists()
    })
    .await;
    let described = ecs
        .describe_tasks()
        .cluster(&cluster)
        .tasks(&sleeper_arn)
        .send()
        .await
        .expect("describe");
    assert_eq!(described.tasks()[0].stopped_reason(), Some("scaled in"));
    std::fs::remove_file(&stopped_file).expect("reset");
    std::fs::remove_file(&pid_file).expect("reset");

    run("sleeper").await.expect("run");
    assert_eq!(runner.poll_once().await.expect("poll"), 1);
    let pid = started_pid(&pid_file).await;
    runner.shutdown().await;
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "task process {pid} outlived the executor"
    );
    assert_eq!(
        std::fs::read_to_string(&stopped_file)
            .map(|s| s.trim().to_owned())
            .ok()
            .as_deref(),
        Some("SIGTERM"),
        "the task was stopped with SIGTERM first, as Fargate does"
    );
    let _ = std::fs::remove_dir_all(work);
}
