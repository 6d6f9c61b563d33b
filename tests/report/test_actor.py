"""The actor of a release, from the CI environment or the local user."""

from __future__ import annotations

from shipper.actor import detect_actor


def test_github_actions_names_the_actor_repository_and_run() -> None:
    """On GitHub Actions the actor is the triggering user with the repository and run id."""
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_REPOSITORY": "acme/web",
        "GITHUB_RUN_ID": "4242",
        "USER": "runner",
    }
    assert detect_actor(env) == "octocat (github acme/web run 4242)"


def test_gitlab_ci_names_the_user_project_and_pipeline() -> None:
    """On GitLab CI the actor is the user login with the project path and pipeline id."""
    env = {
        "GITLAB_CI": "true",
        "GITLAB_USER_LOGIN": "alice",
        "CI_PROJECT_PATH": "acme/web",
        "CI_PIPELINE_ID": "77",
    }
    assert detect_actor(env) == "alice (gitlab acme/web pipeline 77)"


def test_circleci_names_the_user_project_and_build() -> None:
    """On CircleCI the actor is the username with the project and build number."""
    env = {
        "CIRCLECI": "true",
        "CIRCLE_USERNAME": "bob",
        "CIRCLE_PROJECT_USERNAME": "acme",
        "CIRCLE_PROJECT_REPONAME": "web",
        "CIRCLE_BUILD_NUM": "12",
    }
    assert detect_actor(env) == "bob (circleci acme/web build 12)"


def test_buildkite_names_the_creator_pipeline_and_build() -> None:
    """On Buildkite the actor is the build creator with the pipeline slug and build number."""
    env = {
        "BUILDKITE": "true",
        "BUILDKITE_BUILD_CREATOR": "Carol",
        "BUILDKITE_PIPELINE_SLUG": "web-deploy",
        "BUILDKITE_BUILD_NUMBER": "5",
    }
    assert detect_actor(env) == "Carol (buildkite web-deploy build 5)"


def test_jenkins_without_the_build_user_plugin_names_the_job() -> None:
    """On Jenkins without a build user the actor is jenkins with the job and build number."""
    env = {"JENKINS_URL": "https://ci.acme.test/", "JOB_NAME": "deploy-web", "BUILD_NUMBER": "9"}
    assert detect_actor(env) == "jenkins (jenkins deploy-web build 9)"


def test_outside_ci_it_is_user_at_host() -> None:
    """With no CI variables the actor is user@host."""
    assert detect_actor({"USER": "dana"}, host="bastion") == "dana@bastion"


def test_ship_actor_overrides_detection() -> None:
    """SHIP_ACTOR set by a wrapper wins over any CI variables."""
    env = {"SHIP_ACTOR": "release-bot", "GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octocat"}
    assert detect_actor(env) == "release-bot"


def test_control_characters_are_removed() -> None:
    """A newline in a CI variable cannot forge a second line in logs or workflow commands."""
    env = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "eve\n::error::forged"}
    assert "\n" not in detect_actor(env)


def test_without_user_variables_the_account_name_is_used() -> None:
    """With no USER, LOGNAME or USERNAME the actor is the process's account, not unknown."""
    import os
    import pwd

    account = pwd.getpwuid(os.getuid()).pw_name
    assert detect_actor({}, host="bastion") == f"{account}@bastion"
