-- Elastic network interfaces. Each instance has a primary one (Type Primary, made and
-- released with the instance); secondary ones (Type Secondary) are created Available in a
-- vSwitch and attached to instances of its zone. An interface holds its primary private IP,
-- secondary private IPs (SecondaryIps) and IPv6 addresses (Ipv6Addresses), and its security
-- groups (SecurityGroupIds).
return {
  name = "eni", product = "ecs", id = "NetworkInterfaceId", prefix = "eni", scope = "zone",
  name_field = "NetworkInterfaceName", not_found = "InvalidEniId.NotFound", tag_type = "eni",
  fields = {},
  actions = {},
}
