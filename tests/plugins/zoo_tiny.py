"""A test-only zoo component, 'testkit-tiny' (a 4-wide MLP), registered on import.

Its trainer takes `ctx.steps` (default 6) SGD steps, saves resumable state after each and, with
`ctx.quick`, stops after step 3 to simulate an interrupted run.
"""
import torch

from methods import zoo

NAME = "testkit-tiny"


def build(config):
    return torch.nn.Sequential(torch.nn.Linear(config["width"], config["width"]), torch.nn.ReLU(),
                               torch.nn.Linear(config["width"], 2))


def train(ctx):
    torch.manual_seed(ctx.seed)
    state = ctx.load_state()
    model = build({"width": 4})
    step = 0
    if state:
        model.load_state_dict(state["model"])
        step = state["step"]
        ctx.prior_wall_s = state["wall_s"]
    target = ctx.steps or 6
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    while step < target:
        loss = model(torch.ones(3, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        ctx.log(step=step, loss=loss.item())
        ctx.save_state({"model": model.state_dict(), "step": step, "wall_s": ctx.wall_s()})
        if step == 3 and ctx.quick:
            return  # simulate an interrupted run
    ctx.export({"width": 4}, model.state_dict(), {"final_loss": loss.item()}, step, "ones")


if NAME not in zoo.COMPONENTS.names():
    zoo.register_component(zoo.Component(NAME, "test-only tiny MLP", build, train, {"width": 4}))
