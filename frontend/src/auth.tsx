/**
 * The pages outside the app (templates/registration/, templates/people/): logging in, being
 * locked out after too many failed logins, choosing a password through a set-password link,
 * changing one's password (a must after logging in with a one-time password), and deciding a
 * task through the signed link of an email (templates/tasks/link.html). Django renders
 * the page and its data (CSRF token, where to go next, the form's errors as JSON, the password
 * rules); this draws it with the app's theme. Every form is a plain HTML form posted to Django.
 */
import "@fontsource-variable/inter";
import "@mantine/core/styles.css";
import "./app.css";

import {
  Alert,
  Anchor,
  Button,
  Checkbox,
  List,
  Center,
  Group,
  MantineProvider,
  NativeSelect,
  Paper,
  PasswordInput,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import {
  IconAlertTriangle,
  IconCircleCheck,
  IconLinkOff,
  IconLock,
  IconTopologyStar3,
} from "@tabler/icons-react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { colorSchemeManager, cssVariablesResolver, theme } from "./theme";

type Data = DOMStringMap;

function Brand() {
  return (
    <Group gap={10} justify="center" mb="md">
      <IconTopologyStar3 size={34} stroke={1.7} color="var(--mantine-primary-color-filled)" aria-hidden="true" />
      <Text fw={700} fz={26}>
        Flowdeck
      </Text>
    </Group>
  );
}

function LoginForm({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center">
        Log in
      </Title>
      <Text c="dimmed" size="sm" ta="center" mt={4} mb="lg">
        Build, run and take part in your workflows.
      </Text>
      {data.error && (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert" mb="md">
          Your username and password didn't match. Please try again.
        </Alert>
      )}
      <form method="post" action={data.action}>
        <input type="hidden" name="csrfmiddlewaretoken" value={data.csrf} />
        <input type="hidden" name="next" value={data.next ?? ""} />
        <Stack gap="md">
          <TextInput
            label="Username"
            name="username"
            id="id_username"
            autoComplete="username"
            required
            autoFocus
            size="md"
            defaultValue={data.username ?? ""}
          />
          <PasswordInput
            label="Password"
            name="password"
            id="id_password"
            autoComplete="current-password"
            required
            size="md"
            // Not "toggle password visibility": a second control named "password" for tools
            // that find the field by its label.
            visibilityToggleButtonProps={{ "aria-label": "Show or hide what is typed" }}
          />
          <Button type="submit" size="md" fullWidth mt="xs">
            Log in
          </Button>
        </Stack>
      </form>
    </>
  );
}

function Locked({ data }: { data: Data }) {
  const minutes = Number(data.minutes ?? 0);
  return (
    <>
      <Title order={1} size="h2" ta="center" mb="md">
        Too many failed logins
      </Title>
      <Alert color="orange" variant="light" icon={<IconLock size={18} />} role="alert">
        Logging in is locked for a while after repeated wrong passwords. Try again in {minutes} minute
        {minutes === 1 ? "" : "s"}.
      </Alert>
      <Text ta="center" mt="md">
        <Anchor href={data.back}>Back to the login page</Anchor>
      </Text>
    </>
  );
}

type FieldErrors = Record<string, { message: string; code: string }[]>;

function parsed<T>(text: string | undefined, fallback: T): T {
  try {
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

/** The password fields of Django's SetPasswordForm (and PasswordChangeForm's current one),
 * with the server's errors under each and the rules the new password must follow. */
function PasswordFields({ data, current }: { data: Data; current?: string }) {
  const errors = parsed<FieldErrors>(data.errors, {});
  const rules = parsed<string[]>(data.rules, []);
  const error = (name: string) => errors[name]?.map((e) => e.message).join(" ") || undefined;
  const toggle = { "aria-label": "Show or hide what is typed" };
  return (
    <Stack gap="md">
      {/* For password managers: which account the new password belongs to. */}
      <input type="text" name="username" value={data.username ?? ""} autoComplete="username" hidden readOnly />
      {errors.__all__ && (
        <Alert color="red" variant="light" role="alert" icon={<IconAlertTriangle size={18} />}>
          {errors.__all__.map((e) => e.message).join(" ")}
        </Alert>
      )}
      {current && (
        <PasswordInput
          label={current}
          name="old_password"
          id="id_old_password"
          autoComplete="current-password"
          required
          autoFocus
          size="md"
          error={error("old_password")}
          visibilityToggleButtonProps={toggle}
        />
      )}
      <PasswordInput
        label="New password"
        name="new_password1"
        id="id_new_password1"
        autoComplete="new-password"
        required
        autoFocus={!current}
        size="md"
        error={error("new_password1")}
        description={
          rules.length ? (
            <List size="xs" spacing={2} c="dimmed" component="span" display="block">
              {rules.map((rule) => (
                <List.Item key={rule} component="span" display="list-item">
                  {rule}
                </List.Item>
              ))}
            </List>
          ) : undefined
        }
        visibilityToggleButtonProps={toggle}
      />
      <PasswordInput
        label="New password again"
        name="new_password2"
        id="id_new_password2"
        autoComplete="new-password"
        required
        size="md"
        error={error("new_password2")}
        visibilityToggleButtonProps={toggle}
      />
    </Stack>
  );
}

function SetPassword({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center">
        Choose your password
      </Title>
      <Text c="dimmed" size="sm" ta="center" mt={4} mb="lg">
        Welcome{data.firstName ? `, ${data.firstName}` : ""}. You log in to Flowdeck as <b>{data.username}</b>.
      </Text>
      <form method="post" action={data.action} aria-label="Choose your password">
        <input type="hidden" name="csrfmiddlewaretoken" value={data.csrf} />
        <PasswordFields data={data} />
        <Button type="submit" size="md" fullWidth mt="lg">
          Set password
        </Button>
      </form>
    </>
  );
}

function ChangePassword({ data }: { data: Data }) {
  const forced = data.forced === "1";
  return (
    <>
      <Title order={1} size="h2" ta="center">
        {forced ? "Choose a new password" : "Change your password"}
      </Title>
      <Text c="dimmed" size="sm" ta="center" mt={4} mb="lg">
        {forced
          ? "You logged in with a one-time password. Choose your own password to continue."
          : `The password of ${data.username}.`}
      </Text>
      <form method="post" action={data.action} aria-label={forced ? "Choose a new password" : "Change your password"}>
        <input type="hidden" name="csrfmiddlewaretoken" value={data.csrf} />
        <input type="hidden" name="next" value={data.next ?? ""} />
        <PasswordFields data={data} current={forced ? "One-time password" : "Current password"} />
        <Button type="submit" size="md" fullWidth mt="lg">
          {forced ? "Set password and continue" : "Change password"}
        </Button>
      </form>
      {forced ? (
        <form method="post" action={data.logout}>
          <input type="hidden" name="csrfmiddlewaretoken" value={data.csrf} />
          <Button type="submit" variant="subtle" color="gray" fullWidth mt="xs" size="md">
            Log out
          </Button>
        </form>
      ) : (
        <Button component="a" href={data.next || "/"} variant="subtle" color="gray" fullWidth mt="xs" size="md">
          Cancel
        </Button>
      )}
    </>
  );
}

function LinkInvalid({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center" mb="md">
        This link does not work
      </Title>
      <Alert color="orange" variant="light" icon={<IconLinkOff size={18} />} role="alert">
        A set-password link works once, and for a limited time. This one was used already, has expired, or
        belongs to a deactivated account. Ask an administrator for a new link.
      </Alert>
      <Button component="a" href={data.login} variant="light" fullWidth mt="lg" size="md">
        Go to the login page
      </Button>
    </>
  );
}

function PasswordSet({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center" mb="md">
        Your password is set
      </Title>
      <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status">
        Log in with your username and the password you just chose.
      </Alert>
      <Button component="a" href={data.login} fullWidth mt="lg" size="md">
        Log in
      </Button>
    </>
  );
}

type LinkField = {
  name: string;
  label: string;
  description: string;
  type: "text" | "number" | "integer" | "boolean" | "select";
  options: string[];
  required: boolean;
  value: string;
  error: string;
};

/** A form field of an email-only assignee's form page (engine/linkviews.py), posted by name. */
function LinkFormField({ field }: { field: LinkField }) {
  const common = {
    name: field.name,
    label: field.label,
    description: field.description || undefined,
    required: field.required,
    error: field.error || undefined,
    size: "md" as const,
  };
  if (field.type === "boolean") {
    return (
      <Checkbox
        name={field.name}
        label={field.label}
        description={common.description}
        error={common.error}
        defaultChecked={Boolean(field.value)}
      />
    );
  }
  if (field.type === "select") {
    return <NativeSelect {...common} data={["", ...field.options]} defaultValue={field.value} />;
  }
  return (
    <TextInput
      {...common}
      defaultValue={field.value}
      inputMode={field.type === "text" ? undefined : field.type === "integer" ? "numeric" : "decimal"}
    />
  );
}

/** The page of an email's signed link: the task, a comment box and one button; or, for an
 * email-only assignee of a form, the form's fields. Nothing is decided until it is posted. */
function TaskLinkPage({ data }: { data: Data }) {
  const fields = parsed<LinkField[]>(data.fields, []);
  const color = data.verb === "reject" ? "red" : data.verb === "approve" ? "teal" : undefined;
  return (
    <>
      <Title order={1} size="h2" ta="center">
        {data.heading}
      </Title>
      <Text c="dimmed" size="sm" ta="center" mt={4} mb="lg">
        {data.workflow} · run {data.run}
        {data.due ? ` · due ${data.due}` : ""}
      </Text>
      <Stack gap="xs" mb="lg">
        <Title order={2} size="h4">
          {data.title}
        </Title>
        {data.description && (
          <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
            {data.description}
          </Text>
        )}
        <Text size="xs" c="dimmed">
          Sent to {data.recipient}
        </Text>
      </Stack>
      {data.formError && (
        <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert" mb="md">
          {data.formError}
        </Alert>
      )}
      <form method="post" action={data.action} aria-label={data.heading}>
        <input type="hidden" name="csrfmiddlewaretoken" value={data.csrf} />
        <Stack gap="md">
          {fields.map((field) => (
            <LinkFormField key={field.name} field={field} />
          ))}
          <Textarea
            label="Comment"
            description="Optional; kept with your decision."
            name="comment"
            autosize
            minRows={3}
            maxLength={10000}
            size="md"
            defaultValue={data.comment ?? ""}
            error={data.commentError || undefined}
          />
          <Button type="submit" size="md" fullWidth color={color}>
            {data.button}
          </Button>
        </Stack>
      </form>
    </>
  );
}

function TaskLinkDone({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center" mb="md">
        Thank you
      </Title>
      <Alert color="teal" variant="light" icon={<IconCircleCheck size={18} />} role="status" title={data.title}>
        {data.outcome}
      </Alert>
      {data.loggedIn && (
        <Button component="a" href={`/inbox/${data.task}`} variant="light" fullWidth mt="lg" size="md">
          Open the task
        </Button>
      )}
    </>
  );
}

function TaskLinkRefused({ data }: { data: Data }) {
  return (
    <>
      <Title order={1} size="h2" ta="center" mb="md">
        {data.title}
      </Title>
      <Alert color="orange" variant="light" icon={<IconLinkOff size={18} />} role="alert">
        {data.message}
      </Alert>
      <Text size="sm" c="dimmed" ta="center" mt="md">
        Nothing was changed.
      </Text>
    </>
  );
}

const PAGES: Record<string, (props: { data: Data }) => React.JSX.Element> = {
  "task-link": TaskLinkPage,
  "task-link-done": TaskLinkDone,
  "task-link-refused": TaskLinkRefused,
  login: LoginForm,
  locked: Locked,
  "set-password": SetPassword,
  "change-password": ChangePassword,
  "link-invalid": LinkInvalid,
  "password-set": PasswordSet,
};

const root = document.getElementById("root");
if (!root) throw new Error("the page must contain <div id=\"root\">");
const Page = PAGES[root.dataset.page ?? "login"] ?? LoginForm;

createRoot(root).render(
  <StrictMode>
    <MantineProvider
      theme={theme}
      defaultColorScheme="auto"
      colorSchemeManager={colorSchemeManager}
      cssVariablesResolver={cssVariablesResolver}
    >
      <Center mih="100dvh" p="md" component="main">
        <Paper withBorder shadow="sm" p="xl" w="100%" maw={400}>
          <Brand />
          <Page data={root.dataset} />
        </Paper>
      </Center>
    </MantineProvider>
  </StrictMode>,
);
