export function peersSection(r: unknown): string;
export function updatePeersDoc(file: string, r: unknown): void;
