"""The kubernetes runner: a step as a KubernetesPodOperator pod.

The pod's namespace, service account, envFrom (the step ConfigMap and the
warehouse Secret) and its whole security policy come from the pod template the
chart renders (PIPELINE_POD_TEMPLATE_FILE); this module adds only what differs
per step: image, arguments, per-task env, resources and name. Imported only
when the kubernetes runner is used: KubernetesPodOperator takes seconds to
import."""

import copy

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

from superstore_orchestration import config
from superstore_orchestration.factory import image_ref
from superstore_orchestration.steps import LARGE, SMALL, TASK_ENV, Step

XCOM_SIDECAR = "airflow-xcom-sidecar"  # the container KubernetesPodOperator adds for do_xcom_push


class StepPodOperator(KubernetesPodOperator):
    """KubernetesPodOperator whose XCom sidecar follows the template's policy.

    KubernetesPodOperator adds the sidecar after merging the template, so the
    template cannot reach it; it gets the base container's securityContext."""

    def build_pod_request_obj(self, context=None, **kwargs) -> k8s.V1Pod:
        pod = super().build_pod_request_obj(context, **kwargs)
        base = next(c for c in pod.spec.containers if c.name == self.base_container_name)
        for container in pod.spec.containers:
            if container.name == XCOM_SIDECAR and container.security_context is None:
                container.security_context = copy.deepcopy(base.security_context)
        return pod


def step_resources(step: Step) -> k8s.V1ResourceRequirements:
    """The configured resources of the step's size (PIPELINE_STEP_RESOURCES);
    a step declared with resources of its own keeps them."""
    sizes = config.pipeline().step_resources
    size = {SMALL: sizes.small, LARGE: sizes.large}.get(step.resources, step.resources)
    return k8s.V1ResourceRequirements(
        requests={"cpu": size.cpu, "memory": size.memory},
        limits={"memory": size.memory},  # no CPU limit: throttling only slows a step down
    )


def step_pod_operator(step: Step, **kwargs) -> KubernetesPodOperator:
    cfg = config.pipeline()
    if cfg.pod_template_file is None:
        # Without the chart's template a pod would run with no security policy.
        raise ValueError("PIPELINE_POD_TEMPLATE_FILE is not set: the kubernetes runner needs the chart's pod template")
    return StepPodOperator(
        task_id=step.task_id,
        name=f"superstore-{step.task_id.replace('_', '-')}",
        pod_template_file=str(cfg.pod_template_file),
        image=image_ref(step),
        arguments=list(step.arguments),
        env_vars=dict(TASK_ENV),
        container_resources=step_resources(step),
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        in_cluster=cfg.in_cluster,
        kubernetes_conn_id=cfg.kubernetes_conn_id,
        **kwargs,
    )
