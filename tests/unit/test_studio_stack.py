"""StudioStack: the domain's auth, network, key, default experience and idle stop; a profile and a
private space per user; execution roles that name every action; the clean-up that goes first."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from app import create_app
from config.settings import load_settings
from platform_constructs.sagemaker.studio import PLATFORM_FILE, STARTER_FOLDER
from platform_constructs.sagemaker.studio_roles import APPROVE_ACTIONS, STUDIO_LIST_ACTIONS
from stacks.studio_stack import NOTEBOOK_IMPORTS, NOTEBOOKS, SANDBOX_PREFIX, starter_files
from tests.conftest import Synthesized
from tests.unit.policies import as_list, lake_grants, role_statements
from tests.unit.references import lake_key, referenced

STACK = "Studio"
DOMAIN = "StudioDomain20F5E462"
DATA_SCIENTIST, LEAD = "DataScientistRole2DDEED56", "LeadRoleEEE85DAE"
STARTER, GROUP = "StudioStarter8123BC15", "StudioSecurityGroup0EA80A08"
OWN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":sagemaker:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":user-profile/${sagemaker:DomainId}/${sagemaker:UserProfileName}",
        ],
    ]
}


def _domain(env: Synthesized) -> dict[str, Any]:
    return env.properties(STACK, DOMAIN)


def _actions(env: Synthesized, role: str) -> set[str]:
    return {a for s in role_statements(env, STACK, role) for a in as_list(s["Action"])}


def test_domain_signs_in_with_iam_runs_jupyterlab_and_encrypts_with_the_lake_key(env: Synthesized) -> None:
    """Users' home folders and volumes hold copies of lake data: the same class, the same key."""
    domain = _domain(env)
    assert domain["AuthMode"] == env.settings.sagemaker.studio.auth.upper() == "IAM"
    assert domain["DomainName"] == env.settings.name_prefix
    assert referenced(env, STACK, domain["KmsKeyId"]) == lake_key(env)
    settings = domain["DefaultUserSettings"]
    assert settings["StudioWebPortal"] == "ENABLED" and settings["DefaultLandingUri"] == "studio::"
    assert settings["ExecutionRole"] == {"Fn::GetAtt": [DATA_SCIENTIST, "Arn"]}
    assert settings["SecurityGroups"] == [{"Fn::GetAtt": [GROUP, "GroupId"]}]


def test_domain_is_vpc_only_where_the_subnets_have_endpoints(env: Synthesized) -> None:
    """prod's subnets reach AWS through interface endpoints; dev's have none, so its apps use
    SageMaker's internet access (and synth warns)."""
    domain = _domain(env)
    vpc_only = env.settings.network.interface_endpoints
    assert domain["AppNetworkAccessType"] == ("VpcOnly" if vpc_only else "PublicInternetOnly")
    assert len(domain["SubnetIds"]) == env.settings.network.max_azs
    network = env.raw("Network")["Resources"]
    services = json.dumps([r["Properties"] for r in network.values() if r["Type"] == "AWS::EC2::VPCEndpoint"])
    assert (".states" in services) is vpc_only  # the notebooks start the training state machine


def test_idle_jupyterlab_apps_stop_and_users_cannot_lengthen_it(env: Synthesized) -> None:
    config = env.settings.sagemaker.studio
    lab = _domain(env)["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert lab["AppLifecycleManagement"]["IdleSettings"] == {
        "LifecycleManagement": "ENABLED",
        "IdleTimeoutInMinutes": config.idle_minutes,
        "MinIdleTimeoutInMinutes": 60,
        "MaxIdleTimeoutInMinutes": config.idle_minutes,
    }
    starter = {"Fn::GetAtt": [STARTER, "StudioLifecycleConfigArn"]}
    assert lab["DefaultResourceSpec"] == {"InstanceType": config.default_instance_type}
    assert lab["BuiltInLifecycleConfigArn"] == starter  # runs at every start, whatever the space chose
    assert lab["LifecycleConfigArns"] == [starter]


def test_each_user_has_a_profile_with_their_role_and_a_private_jupyterlab_space(env: Synthesized) -> None:
    config = env.settings.sagemaker.studio
    roles = {"data_scientist": DATA_SCIENTIST, "lead": LEAD}
    profiles = {
        p["Properties"]["UserProfileName"]: p
        for p in env.resources(STACK, "AWS::SageMaker::UserProfile").values()
    }
    spaces = {s["Properties"]["SpaceName"]: s for s in env.resources(STACK, "AWS::SageMaker::Space").values()}
    profile_ids = {
        p["Properties"]["UserProfileName"]: lid
        for lid, p in env.resources(STACK, "AWS::SageMaker::UserProfile").items()
    }
    assert sorted(profiles) == sorted(spaces) == sorted(user.name for user in config.users)
    for user in config.users:
        profile = profiles[user.name]["Properties"]
        assert profile["UserSettings"]["ExecutionRole"] == {"Fn::GetAtt": [roles[user.role], "Arn"]}
        space = spaces[user.name]
        assert space["Properties"]["OwnershipSettings"] == {"OwnerUserProfileName": user.name}
        assert space["Properties"]["SpaceSharingSettings"] == {"SharingType": "Private"}
        assert space["Properties"]["SpaceSettings"] == {
            "AppType": "JupyterLab",
            "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": config.space_volume_gb}},
        }
        assert profile_ids[user.name] in space["DependsOn"]


def test_security_group_allows_https_nfs_and_studio_ports_only(env: Synthesized) -> None:
    group = env.properties(STACK, GROUP)
    egress = {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in group["SecurityGroupEgress"]}
    assert egress == {("tcp", 443, 443), ("tcp", 2049, 2049)}
    rules = [
        r["Properties"]
        for r in env.raw(STACK)["Resources"].values()
        if r["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")
    ]
    assert {(r["FromPort"], r["ToPort"]) for r in rules} == {(8192, 65535)}
    assert all("SourceSecurityGroupId" in r or "DestinationSecurityGroupId" in r for r in rules)


def test_roles_read_curated_and_analytics_and_write_only_their_sandbox(env: Synthesized) -> None:
    for role in (DATA_SCIENTIST, LEAD):
        trust = env.properties(STACK, role)["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]
        assert "aws:SourceAccount" in json.dumps(trust)
        grants = lake_grants(env, STACK, role)
        assert set(grants) == {"curated", "analytics", "artifacts"}  # never raw
        writes = {"s3:PutObject", "s3:DeleteObject"}
        assert not writes & grants["curated"][0] and not writes & grants["analytics"][0]
        assert grants["artifacts"][1] == {"", f"/{SANDBOX_PREFIX}*", "/athena-results/*"}
        actions = _actions(env, role)
        assert {"states:StartExecution", "sagemaker:InvokeEndpoint", "athena:StartQueryExecution"} <= actions
        assert not {"states:CreateStateMachine", "states:UpdateStateMachine", "iam:PassRole"} & actions
        assert not [a for a in actions if a.endswith(":*") or a == "*"]


def test_only_the_lead_approves_models(env: Synthesized) -> None:
    assert not set(APPROVE_ACTIONS) & _actions(env, DATA_SCIENTIST)
    (approve,) = [s for s in role_statements(env, STACK, LEAD) if s["Action"] == APPROVE_ACTIONS[0]]
    assert f"model-package/{env.settings.forecast_name}/*" in json.dumps(approve["Resource"])


def test_apps_start_only_in_private_spaces_on_the_allowed_instance_types(env: Synthesized) -> None:
    config = env.settings.sagemaker.studio
    for role in (DATA_SCIENTIST, LEAD):
        statements = role_statements(env, STACK, role)
        (create,) = [s for s in statements if s["Action"] == "sagemaker:CreateApp"]
        own = {"ArnLike": {"sagemaker:OwnerUserProfileArn": OWN}}  # the signed-in user's spaces only
        assert create["Condition"] == {
            "StringEquals": {"sagemaker:SpaceSharingType": "Private"},
            "ForAllValues:StringEquals": {"sagemaker:InstanceTypes": config.allowed_instance_types},
            **own,
        }
        (delete,) = [s for s in statements if s["Action"] == "sagemaker:DeleteApp"]
        assert delete["Condition"] == own
        unscoped = {a for s in statements if s["Resource"] == "*" for a in as_list(s["Action"])}
        assert (
            set(STUDIO_LIST_ACTIONS) <= unscoped
            and not {"sagemaker:CreateApp", "sagemaker:DeleteApp"} & unscoped
        )


def test_starter_script_writes_the_platform_file_and_copies_the_notebooks(env: Synthesized) -> None:
    starter = env.properties(STACK, STARTER)
    assert starter["StudioLifecycleConfigAppType"] == "JupyterLab"
    parts = starter["StudioLifecycleConfigContent"]["Fn::Base64"]["Fn::Join"][1]
    script = "".join(p if isinstance(p, str) else "<token>" for p in parts)
    assert f"cat > {PLATFORM_FILE}" in script and f'os.path.expanduser("{STARTER_FOLDER}")' in script
    for key in ("workgroup", "curated_database", "analytics_database", "training_state_machine", "endpoint"):
        assert f'"{key}"' in script
    assert "not os.path.exists(path)" in script  # never over a user's file


def test_cleanup_goes_before_the_domain_profiles_and_spaces_and_deletes_efs_only_when_destroying(
    env: Synthesized,
) -> None:
    (cleanup,) = env.resources(STACK, "Custom::StudioCleanup").values()
    destroy = env.settings.destroy_on_delete
    assert cleanup["Properties"]["DeleteDomain"] == ("true" if destroy else "false")
    held = {
        *env.resources(STACK, "AWS::SageMaker::Space"),
        *env.resources(STACK, "AWS::SageMaker::UserProfile"),
        DOMAIN,
    }
    assert held <= set(cleanup["DependsOn"])
    kept = "Delete" if destroy else "Retain"
    for resource_type in ("AWS::SageMaker::Domain", "AWS::SageMaker::Space", "AWS::SageMaker::UserProfile"):
        assert all(r["DeletionPolicy"] == kept for r in env.resources(STACK, resource_type).values())
    cleanup_roles = [
        lid for lid in env.resources(STACK, "AWS::IAM::Role") if lid.startswith("StudioCleanupRole")
    ]
    actions = {a for role in cleanup_roles for a in _actions(env, role)}
    assert ("sagemaker:DeleteDomain" in actions) is destroy
    assert not [a for a in actions if a.startswith("elasticfilesystem:")]  # SageMaker's own role does
    assert "sagemaker:DeleteApp" in actions


def test_users_get_the_notebooks_and_every_module_their_cells_import() -> None:
    imported = set()
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                imported |= set(re.findall(r"^from (workloads[\w.]*) import", source, re.MULTILINE))
                imported |= {"lake"} if re.search(r"^import lake$", source, re.MULTILINE) else set()
    scripts = {script.removesuffix(".py").replace("/", ".") for script in NOTEBOOK_IMPORTS}
    assert {f"notebooks.{m}" if m == "lake" else m for m in imported} <= scripts
    files = starter_files()
    assert {"notebooks/explore_lake.ipynb", "notebooks/train_and_compare.ipynb", "notebooks/lake.py"} <= set(
        files
    )
    assert {"workloads/schema.py", "workloads/sagemaker/train.py", "workloads/__init__.py"} <= set(files)
    assert not [f for f in files if not (f.startswith("notebooks/") or f.startswith("workloads/"))]


def test_identity_center_sign_in_names_each_user_by_their_identity_center_user_name(tmp_path: Path) -> None:
    settings = load_settings("dev")
    studio = settings.sagemaker.studio.model_copy(update={"auth": "sso"})
    sagemaker = settings.sagemaker.model_copy(update={"studio": studio})
    app, _ = create_app(settings.model_copy(update={"sagemaker": sagemaker}), outdir=str(tmp_path))
    app.synth()
    resources = json.loads((tmp_path / f"{STACK}.template.json").read_text())["Resources"]
    assert resources[DOMAIN]["Properties"]["AuthMode"] == "SSO"
    profiles = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SageMaker::UserProfile"]
    assert sorted(p["SingleSignOnUserValue"] for p in profiles) == sorted(u.name for u in studio.users)
    assert {p["SingleSignOnUserIdentifier"] for p in profiles} == {"UserName"}
