/** One alert: hydrograph, level history, candidate risk level, actions, CAP. */
export function AlertDetailPage(props: { params: Record<string, string> }) {
  return <h1>#{props.params.id}</h1>;
}
