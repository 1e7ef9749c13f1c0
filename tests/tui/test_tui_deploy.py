"""Pilot: the deploy gate. Approve -> folder fixed; cancel -> untouched; folder changed underneath -> refused."""

from __future__ import annotations

from conftest import tree, until

from tui_agent.tui.app import AgentApp
from tui_agent.tui.screens.deploy import DeployScreen

SIZE = (160, 48)


async def ready_to_deploy(pilot, app) -> None:
    """Allow each tool call once (`a` would also persist a rule in the folder's .tui-agent/)."""
    while app.state.phase != "ready to deploy":
        await until(pilot, lambda: app.state.finished is not None or bool(app.agent_run and app.state.pending),
                    what="a call")
        if app.state.pending:
            call_id = app.main.permissions.selected
            await pilot.press("y")
            await until(pilot, lambda: call_id not in app.state.pending, what=f"{call_id} decided")


def fixed(project) -> bool:
    source = (project / "calc.py").read_text()
    return "return None" in source and "+ 1" not in source


async def test_deploy_key_is_dimmed_until_the_check_passes(calculator):
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.state.started)
        assert app.check_action("deploy", ()) is None
        await pilot.press("d")
        assert not isinstance(app.screen, DeployScreen)


async def test_approve_copies_the_fix_into_the_folder(calculator):
    project = calculator.project
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await ready_to_deploy(pilot, app)
        assert not fixed(project), "nothing reaches the folder before the person approves"
        await pilot.press("d")
        assert isinstance(app.screen, DeployScreen)
        shown = str(app.screen.query_one("#deploy-checklist").render())
        assert "the check passes" in shown and "2 iteration(s) of 10" in shown
        await pilot.press("y")
        await until(pilot, lambda: app.state.deployed is not None, what="deployed")
        assert app.state.phase == "deployed"
        await pilot.press("ctrl+q")
    assert fixed(project)
    assert app.return_code == 0


async def test_cancel_leaves_the_folder_untouched(calculator):
    project = calculator.project
    before = tree(project)
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await ready_to_deploy(pilot, app)
        await pilot.press("d")
        assert isinstance(app.screen, DeployScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, DeployScreen)
        await pilot.press("d")
        await pilot.click("#cancel")
        assert not isinstance(app.screen, DeployScreen)
        assert app.state.phase == "ready to deploy" and app.state.deployed is None
    assert tree(project) == before


async def test_refused_when_the_folder_changed_underneath(calculator):
    project = calculator.project
    app = AgentApp(calculator)
    async with app.run_test(size=SIZE) as pilot:
        await ready_to_deploy(pilot, app)
        (project / "calc.py").write_text((project / "calc.py").read_text() + "\n# edited by the person\n")
        before = tree(project)
        await pilot.press("d", "y")
        await until(pilot, lambda: bool(app.state.deploy_refused), what="the refusal")
        assert app.state.deployed is None and app.state.phase == "ready to deploy"
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Deploy refused, your folder was not changed:") and "calc.py" in m for m in messages)
    assert tree(project) == before


async def test_deploy_command_runs_in_the_folder_after_approval(tmp_path):
    from conftest import example_settings

    settings = example_settings(tmp_path, deploy_command="echo shipped > DEPLOYED.txt && echo deploy-output-ok")
    app = AgentApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ready_to_deploy(pilot, app)
        assert not (settings.project / "DEPLOYED.txt").exists()
        await pilot.press("d")
        assert "then runs: echo shipped" in str(app.screen.query_one("#deploy-checklist").render())
        await pilot.press("y")
        await until(pilot, lambda: any("deploy command exited 0" in line for line in app.main.output.lines))
        assert any("deploy-output-ok" in line for line in app.main.output.lines)
    assert (settings.project / "DEPLOYED.txt").read_text() == "shipped\n"
    assert fixed(settings.project)
