import { AssignerProtocol } from 'kafkajs';
import type { Admin, GroupDescription, MemberDescription } from 'kafkajs';
import { describeLag } from '@shopstream/shared';
import type { GroupMember, KafkaFacts } from './facts.js';

/**
 * What Kafka knows about `group` and `topic`: whether the topic exists and where the group stands
 * on it (through describeLag, the numbers kafka-consumer-groups --describe prints), the group's
 * state and, per member, the partitions it was assigned (decoded from the join protocol).
 */
export async function gatherKafkaFacts(
  admin: Admin,
  group: string,
  topic: string,
  startFrom: 'earliest' | 'latest',
): Promise<KafkaFacts> {
  const topics = await admin.listTopics();
  const partitions = topics.includes(topic) ? await describeLag(admin, group, topic, startFrom) : null;
  const { groups } = await admin.describeGroups([group]);
  const description = groups.find((g) => g.groupId === group);
  const members = (description?.members ?? []).map(decodeMember);
  const onTopic = members.some((m) => (m.assigned[topic]?.length ?? 0) > 0);
  return {
    reachable: true,
    partitions,
    group: { state: description?.state ?? 'Dead', members },
    otherGroupsOnTopic: onTopic ? [] : await groupsConsuming(admin, topic, group),
  };
}

export function decodeMember(m: MemberDescription): GroupMember {
  // A member that joined but has not been assigned yet (mid-rebalance) carries empty buffers.
  const assignment =
    m.memberAssignment.length > 0
      ? safe(() => AssignerProtocol.MemberAssignment.decode(m.memberAssignment))
      : null;
  const metadata =
    m.memberMetadata.length > 0 ? safe(() => AssignerProtocol.MemberMetadata.decode(m.memberMetadata)) : null;
  return {
    memberId: m.memberId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    assigned: assignment?.assignment ?? {},
    subscribed: metadata?.topics ?? [],
  };
}

/** Consumer groups (other than `except`) with a member assigned a partition of `topic`. */
async function groupsConsuming(admin: Admin, topic: string, except: string): Promise<string[]> {
  const { groups } = await admin.listGroups();
  const ids = groups
    .filter((g) => g.protocolType === 'consumer' && g.groupId !== except)
    .map((g) => g.groupId);
  if (ids.length === 0) return [];
  const { groups: described } = await admin.describeGroups(ids);
  const consuming = (g: GroupDescription) =>
    g.members.some((m) => (decodeMember(m).assigned[topic]?.length ?? 0) > 0);
  return described
    .filter(consuming)
    .map((g) => g.groupId)
    .sort();
}

function safe<T>(decode: () => T | null): T | null {
  try {
    return decode();
  } catch {
    // A non-kafkajs client may use another assignment encoding; treat it as unknown, not fatal.
    return null;
  }
}
