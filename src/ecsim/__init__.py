"""ecsim: a local emulator of the Huawei Cloud ECS/EVS control plane with IAM enforced."""

__version__ = "0.1.0"
